"""Level crossings of curves on a grid of training times, and root solves in log space.

Every timescale of rfdiff read off a curve is one of two things:

- a *grid crossing*: the first grid time at which a curve y(τ) reaches a level, refined by
  linear interpolation in log τ between that grid point and the previous one
  (:func:`first_crossing`, located with :func:`first_index`);
- a *root*: the same crossing solved on the curve itself by bisection in log space,
  bracketed by the grid crossing (:func:`bisect_log`, :func:`bisect_log_integer`).

All functions are vectorised over a batch of curves: ``y`` has shape (B, T) (or (T,) for
one curve) on a grid ``tau`` of shape (T,), and levels and start indices broadcast to (B,).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DIRECTIONS", "first_index", "first_crossing", "bisection_iterations",
           "bisect_log", "bisect_log_integer"]

#: ``"up"``: y rises to the level (y ≥ level); ``"down"``: y falls to it (y ≤ level).
DIRECTIONS = ("up", "down")


def _check_direction(direction):
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return direction


def _batch(y, level, start):
    y = np.asarray(y, dtype=float)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be a (T,) or (B, T) array, got shape {y.shape}")
    lead = y.shape[:-1]
    level = np.broadcast_to(np.asarray(level, dtype=float), lead)
    start = np.broadcast_to(np.asarray(start, dtype=int), lead)
    return y, level, start


def _reached(y, level, direction):
    return y >= level[..., None] if direction == "up" else y <= level[..., None]


def first_index(y, level, *, direction: str = "up", start=0):
    """Index of the first grid point at or after ``start`` where y has reached ``level``.

    Args:
        y: (T,) or (B, T) curve values.
        level: the level, broadcastable to (B,).
        direction: ``"up"`` (first y ≥ level) or ``"down"`` (first y ≤ level).
        start: first index searched, broadcastable to (B,).

    Returns:
        ``(index, found)``: integer and boolean arrays of shape (B,) (0-d for one curve);
        ``index`` is 0 where ``found`` is False.

    Raises:
        ValueError: for a bad direction or shape.
    """
    direction = _check_direction(direction)
    y, level, start = _batch(y, level, start)
    hit = _reached(y, level, direction) & (np.arange(y.shape[-1]) >= start[..., None])
    if y.shape[-1] == 0:  # an empty grid reaches nothing
        return np.zeros(y.shape[:-1], int), np.zeros(y.shape[:-1], bool)
    return np.argmax(hit, axis=-1), np.any(hit, axis=-1)


def _strict_index(y, level, direction, start):
    """First i ≥ max(start, 1) where y passes the level between i − 1 and i."""
    now = _reached(y, level, direction)
    before = y[..., :-1] < level[..., None] if direction == "up" else \
        y[..., :-1] > level[..., None]
    hit = np.zeros_like(now)
    hit[..., 1:] = now[..., 1:] & before
    hit &= np.arange(y.shape[-1]) >= start[..., None]
    return np.argmax(hit, axis=-1), np.any(hit, axis=-1)


def first_crossing(tau, y, level, *, direction: str = "up", start=0,
                   strict: bool = False) -> np.ndarray:
    """First time at which y reaches ``level``, interpolated linearly in log τ.

    Between the grid points i − 1 and i that bracket the crossing,
    τ = exp(log τ_{i−1} + w (log τ_i − log τ_{i−1})) with
    w = (level − y_{i−1}) / (y_i − y_{i−1}). Pass log values as ``y`` and ``level`` to
    interpolate in log y as well.

    Args:
        tau: (T,) increasing grid of finite times > 0.
        y: (T,) or (B, T) curve values on the grid.
        level: the level, broadcastable to (B,).
        direction: ``"up"`` (y rises to the level) or ``"down"`` (y falls to it).
        start: first index searched, broadcastable to (B,).
        strict: False: the first grid point i ≥ ``start`` where the level is reached,
            ``tau[start]`` if it is reached there already. True: the first i ≥
            max(start, 1) at which y passes the level from the other side (y_{i−1} below
            an upward level, above a downward one), so that a curve already past the level
            at ``start`` must return before it counts.

    Returns:
        (B,) float array (0-d for one curve) of times; ``inf`` where the level is not
        reached on the grid.

    Raises:
        ValueError: for a bad direction or shapes that do not match.
    """
    direction = _check_direction(direction)
    y, level, start = _batch(y, level, start)
    tau = np.asarray(tau, dtype=float)
    if tau.shape != y.shape[-1:]:
        raise ValueError(f"tau must have shape {y.shape[-1:]}, got {tau.shape}")
    if tau.size == 0:
        return np.full(y.shape[:-1], np.inf)
    if strict:
        i, found = _strict_index(y, level, direction, start)
    else:
        i, found = first_index(y, level, direction=direction, start=start)
    j = np.maximum(i - 1, 0)
    y0 = np.take_along_axis(y, j[..., None], axis=-1)[..., 0]
    y1 = np.take_along_axis(y, i[..., None], axis=-1)[..., 0]
    log_tau = np.log(tau)
    lt0, lt1 = log_tau[j], log_tau[i]
    inner = found & (i > start) if not strict else found
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(inner, (level - y0) / np.where(inner, y1 - y0, 1.0), 0.0)
        t = np.exp(lt0 + w * (lt1 - lt0))
    t = np.where(inner, t, tau[i])
    return np.where(found, t, np.inf)


def bisection_iterations(lo, hi, rel_tol: float) -> int:
    """Bisection steps in log space that bring every bracket [lo, hi] below ``rel_tol``.

    Args:
        lo, hi: arrays of bracket ends (> 0).
        rel_tol: relative accuracy (> 0).

    Returns:
        The number of halvings of the widest bracket in log, plus one.

    Raises:
        Nothing.
    """
    span = np.nanmax(np.abs(np.log(hi / lo))) if np.size(lo) else 1.0
    return int(np.ceil(np.log2(max(span, 1e-12) / rel_tol))) + 1


def bisect_log(fn, lo, hi, *, rel_tol: float | None = None, iters: int | None = None):
    """Vectorised bisection in log space of the sign change of ``fn``.

    ``fn(lo) ≥ 0`` on one side and ``< 0`` on the other (either order); each step keeps
    the half [lo, √(lo hi)] or [√(lo hi), hi] that still brackets the change.

    Args:
        fn: callable mapping a (B,) array of points to (B,) values.
        lo, hi: (B,) bracket ends (> 0).
        rel_tol: relative accuracy; sets ``iters`` by :func:`bisection_iterations`.
        iters: number of steps (instead of ``rel_tol``).

    Returns:
        (B,) geometric midpoints of the final brackets.

    Raises:
        ValueError: unless exactly one of ``rel_tol`` and ``iters`` is given.
    """
    if (rel_tol is None) == (iters is None):
        raise ValueError("give exactly one of rel_tol and iters")
    if iters is None:
        iters = bisection_iterations(lo, hi, rel_tol)
    flo = fn(lo) >= 0
    for _ in range(iters):
        mid = np.sqrt(lo * hi)
        same = (fn(mid) >= 0) == flo
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return np.sqrt(lo * hi)


def bisect_log_integer(predicate, lo: int, hi: int, rel_resolution: float):
    """Bisection in log space over integers: where ``predicate`` stops being True.

    With ``predicate(lo)`` True and ``predicate(hi)`` False, the geometric midpoint
    (rounded, kept strictly inside) replaces the end with the same value, until the
    bracket is one integer wide or within ``rel_resolution``.

    Args:
        predicate: callable of one integer returning a bool (one probe per call).
        lo, hi: integer bracket ends, 1 ≤ lo < hi.
        rel_resolution: relative width hi/lo − 1 at which to stop (> 0).

    Returns:
        ``(lo, hi, probes)``: the final bracket and the number of calls of ``predicate``.

    Raises:
        Nothing.
    """
    probes = 0
    while hi - lo > 1 and hi / lo - 1 > rel_resolution:
        mid = min(max(round(math.sqrt(lo * hi)), lo + 1), hi - 1)
        probes += 1
        if predicate(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi, probes
