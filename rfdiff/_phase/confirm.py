"""Finite-size twins of the phase diagram (exact method): labels at points, and the
boundaries τ_gen(ψ_n), τ_mem(ψ_n) and ψ_n*(ψ_p) located on simulated runs.

The definitions are those of :mod:`rfdiff._phase`, applied to the exact learning curves of
one draw (W, X): τ_gen and the minimum of E_score on the same reference grid, L_gen(∞) from
the flow's τ = ∞ limit. Finite-size curves differ from the limit by O(1/d) (about 2–4 % at
d = 100), so boundaries agree to a few per cent and labels agree away from the boundaries;
:func:`boundary_points` picks points at a stated distance from them.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._common import map_tasks, positive, positive_int
from .._finite import finite_size_instance, gradient_flow, learning_curves
from .._model import Problem
from .._timescales import PhaseThresholds, bisect_log_integer
from .boundaries import _solve_time_boundaries
from .evaluate import (_check_thresholds, _grid_tau_gen, _reference, _reference_grid,
                       _theory_batch)
from .maps import LABELS, PhaseMap, phase_labels

__all__ = ["confirm_points", "simulated_phase", "simulated_time_boundaries",
           "simulated_size_boundary", "boundary_points"]


def _flow(problem, d, seed):
    return gradient_flow(finite_size_instance(problem, d, seed=seed))


def simulated_phase(problem: Problem, tau, d: int = 100, seed: int = 0, thresholds=None):
    """Labels of a finite-size run (exact matrices) at training times ``tau``.

    Uses the same definitions as the theory: τ_gen from the curve on the same reference
    grid, L_gen(∞) from the flow's τ = ∞ limit.

    Args:
        problem: the model (its ψ_p, ψ_n are used).
        tau: training times.
        d: dimension.
        seed: seed of the draw.
        thresholds: :class:`rfdiff.tools.PhaseThresholds` (default).

    Returns:
        dict with ``label`` (ints), ``gen_loss``, ``score_error`` at ``tau``, ``tau_gen`` and
        ``gen_loss_inf``.

    Raises:
        ValueError: for a bad size or times.
    """
    th = _check_thresholds(thresholds or PhaseThresholds())
    d = positive_int("d", d)
    tau = np.atleast_1d(np.asarray(tau, float))
    grid = _reference_grid(problem)
    flow = _flow(problem, d, seed)
    ref = learning_curves(flow, np.append(grid, np.inf))
    at = learning_curves(flow, tau)
    tgen = float(_grid_tau_gen(grid, np.asarray(ref.score_error)[None, :-1], th)[0])
    ginf = float(ref.gen_loss[-1])
    return {"label": phase_labels(tau, at.gen_loss, ginf, tgen, th),
            "gen_loss": at.gen_loss, "score_error": at.score_error, "tau_gen": tgen,
            "gen_loss_inf": ginf}


def _time_boundaries_at(problem, d, seed, grid, th):
    """(τ_gen, τ_mem, τ_gen_min) of one exact run: one task of
    :func:`simulated_time_boundaries`."""
    flow = _flow(problem, d, seed)
    ref = learning_curves(flow, np.append(grid, np.inf))

    def at(x):
        c = learning_curves(flow, np.asarray(x, float))
        return c.gen_loss, c.score_error

    tg, tm, tmin = _solve_time_boundaries(grid, ref.gen_loss[None, :-1],
                                          ref.score_error[None, :-1], ref.gen_loss[-1:], at,
                                          th)
    return float(tg[0]), float(tm[0]), float(tmin[0])


def simulated_time_boundaries(problem: Problem, psi_n, d: int = 100, seed: int = 0,
                              thresholds=None, executor=None) -> dict:
    """Finite-size twin of :func:`rfdiff.time_boundaries`: τ_gen and τ_mem of exact runs.

    One draw per ψ_n (dimension ``d``, p = round(ψ_p d), n = round(ψ_n d)); the roots are
    solved on the exact learning curves of that draw to relative 1e-6 (the draw's own
    fluctuations, O(d^-1/2) in the curves, are much larger).

    Args:
        problem: template (ψ_p, t, activation, ρ_Σ; its ψ_n is ignored).
        psi_n: ψ_n values.
        d: dimension.
        seed: seed of the draws.
        thresholds: :class:`rfdiff.tools.PhaseThresholds` (default).
        executor: None (serial) or a ``concurrent.futures.Executor`` running one task
            per ψ_n (the results do not depend on it).

    Returns:
        dict with ``psi_n`` (n/d as simulated), ``tau_gen``, ``tau_gen_min``, ``tau_mem``
        (``inf`` when never), ``d``, ``seed``.

    Raises:
        ValueError: for a bad size, ψ_n or thresholds.
    """
    th = _check_thresholds(thresholds or PhaseThresholds())
    d = positive_int("d", d)
    psi_n = np.atleast_1d(np.asarray(psi_n, float))
    grid = _reference_grid(problem)
    ns = [max(1, round(positive("psi_n", pn) * d)) for pn in psi_n]
    rows = map_tasks(_time_boundaries_at,
                     [(dataclasses.replace(problem, psi_n=n / d), d, seed, grid, th)
                      for n in ns], executor)
    tg, tm, tmin = np.array(rows, dtype=float).reshape(-1, 3).T
    return {"psi_n": np.array([n / d for n in ns], dtype=float), "tau_gen": tg,
            "tau_gen_min": tmin, "tau_mem": tm, "d": d, "seed": seed}


def _memorising_at(problem, psi_p, n, d, tau, seed, th):
    pr = dataclasses.replace(problem, psi_p=psi_p, psi_n=n / d)
    c = learning_curves(_flow(pr, d, seed), np.array([tau, np.inf]))
    return bool(c.gen_loss[0] >= th.memorisation_level(c.gen_loss[1]))


def _size_boundary_at(problem, pp, blo, bhi, d, tau, seed, th, rel):
    """(ψ_n lo, ψ_n hi, ψ_n*, probes) at one ψ_p: one task of
    :func:`simulated_size_boundary`."""
    lo, hi = max(1, math.floor(blo * d)), max(2, math.ceil(bhi * d))
    if not (_memorising_at(problem, pp, lo, d, tau, seed, th)
            and not _memorising_at(problem, pp, hi, d, tau, seed, th)):
        return float("nan"), float("nan"), float("nan"), 2
    lo, hi, more = bisect_log_integer(
        lambda m: _memorising_at(problem, pp, m, d, tau, seed, th), lo, hi, rel)
    return lo / d, hi / d, math.sqrt(lo / d * hi / d), 2 + more


def simulated_size_boundary(problem: Problem, psi_p, tau: float, psi_n_bracket, d: int = 100,
                            seed: int = 0, thresholds=None, rel_resolution: float = 0.02,
                            executor=None) -> dict:
    """Finite-size twin of :func:`rfdiff.size_boundary`: where exact runs stop memorising.

    For each ψ_p, bisection over the integer number of samples n (dimension ``d``) between
    a memorising and a non-memorising size, until the bracket is within ``rel_resolution``
    (or one sample) wide. Every probe is a fresh draw with the same seed.

    Args:
        problem: template (t, activation, ρ_Σ).
        psi_p: ψ_p values.
        tau: the training time (> 0, finite).
        psi_n_bracket: ``(lo, hi)`` ψ_n bracket, one pair for all ψ_p or one per ψ_p; the
            run must memorise at lo and not at hi (else the result is ``nan``).
        d: dimension.
        seed: seed of the draws.
        thresholds: :class:`rfdiff.tools.PhaseThresholds` (default).
        rel_resolution: relative width at which the bisection stops.
        executor: None (serial) or a ``concurrent.futures.Executor`` running one task
            per ψ_p (the results do not depend on it).

    Returns:
        dict with ``psi_p``; ``psi_n_lo`` (largest memorising n/d found), ``psi_n_hi``
        (smallest non-memorising n/d found), ``psi_n_star`` (their geometric mean; ``nan``
        without a bracket); ``probes`` (number of runs per ψ_p), ``d``, ``seed``.

    Raises:
        ValueError: for a bad size, τ, bracket or thresholds.
    """
    th = _check_thresholds(thresholds or PhaseThresholds())
    d = positive_int("d", d)
    tau = positive("tau", tau)
    rel = positive("rel_resolution", rel_resolution)
    psi_p = np.atleast_1d(np.asarray(psi_p, float))
    br = np.broadcast_to(np.asarray(psi_n_bracket, float), (psi_p.size, 2))
    if np.any(~np.isfinite(br)) or np.any(br[:, 0] <= 0) or np.any(br[:, 1] <= br[:, 0]):
        raise ValueError(f"psi_n_bracket must be pairs 0 < lo < hi, got {psi_n_bracket!r}")
    res = map_tasks(_size_boundary_at,
                    [(problem, float(pp), float(blo), float(bhi), d, tau, seed, th, rel)
                     for pp, (blo, bhi) in zip(psi_p, br)], executor)
    keys = ("psi_n_lo", "psi_n_hi", "psi_n_star", "probes")
    rows = {k: np.array([r[i] for r in res]) for i, k in enumerate(keys)}
    return {"psi_p": psi_p, **rows, "d": d, "seed": seed}


def boundary_points(pmap: PhaseMap, factor: float = 2.0, max_points: int | None = None):
    """Points of a map on both sides of its boundaries, a factor ``factor`` away.

    For a ``psi_n-tau`` map, at each ψ_n: τ_gen/f, τ_gen·f (when below τ_mem/f), τ_mem/f and
    τ_mem·f (when finite). For a ``psi_n-psi_p`` map, at each ψ_p with a boundary: ψ_n*/f
    and ψ_n*·f. ``factor`` is the resolution at which labels are compared: closer to a
    boundary the O(1/d) finite-size shift of the boundary can change the label.

    Args:
        pmap: a :class:`rfdiff.PhaseMap`.
        factor: distance from the boundary (ratio, > 1).
        max_points: keep this many, spread evenly over the list (default all).

    Returns:
        list of (ψ_n, y) pairs, y = τ or ψ_p.

    Raises:
        ValueError: for factor ≤ 1 or max_points < 1.
    """
    f = positive("factor", factor)
    if f <= 1:
        raise ValueError(f"factor must be > 1, got {factor!r}")
    b = pmap.boundaries
    pts = []
    if pmap.kind == "psi_n-tau":
        for pn, tg, tm in zip(pmap.psi_n, b["boundary_tau_gen"], b["boundary_tau_mem"]):
            pts.append((float(pn), float(tg / f)))
            if tg * f < tm / f:
                pts.append((float(pn), float(tg * f)))
            if np.isfinite(tm):
                pts += [(float(pn), float(tm / f)), (float(pn), float(tm * f))]
    else:
        for pp, star in b["boundary"]:
            pts += [(float(star / f), float(pp)), (float(star * f), float(pp))]
    if max_points is not None and len(pts) > positive_int("max_points", max_points):
        idx = np.unique(np.round(np.linspace(0, len(pts) - 1, max_points)).astype(int))
        pts = [pts[i] for i in idx]
    return pts


def confirm_points(pmap: PhaseMap, points, d: int = 100, seed: int = 0,
                   executor=None, progress=None) -> list[dict]:
    """Run finite-size instances at points of a phase map and compare the labels.

    Args:
        pmap: a :class:`rfdiff.PhaseMap`.
        points: list of (ψ_n, y) pairs, y = τ (``psi_n-tau`` maps) or ψ_p (``psi_n-psi_p``).
        d: dimension of the finite-size runs.
        seed: seed of the draws.
        executor: None (serial) or a ``concurrent.futures.Executor`` running one
            finite-size task per distinct (ψ_p, ψ_n) (the results do not depend on it).
        progress: optional callback ``progress(done, total, task)`` after each task.

    Returns:
        One dict per point: ``psi_n``, ``psi_p``, ``tau``, ``theory`` and ``simulation``
        labels (names), their L_gen and E_score, and ``agree``.

    Raises:
        ValueError: for a bad size or points.
    """
    base = pmap.problem
    pts = [(pmap.fixed, float(x), float(y)) if pmap.kind == "psi_n-tau"
           else (float(y), float(x), pmap.fixed) for x, y in points]
    pp = np.array([p[0] for p in pts])
    pn = np.array([p[1] for p in pts])
    tau = np.array([p[2] for p in pts])
    # theory for all points in one batch
    b = _theory_batch(base, pp, pn, np.stack([tau, np.full_like(tau, np.inf)], 1))
    tgen, ginf, _ = _reference(base, pp, pn, _check_thresholds(pmap.thresholds))
    th_labels = phase_labels(tau, b.gen[:, 0], ginf, tgen, pmap.thresholds)
    # one finite-size run per distinct (ψp, ψn), all its times at once
    keys = list(dict.fromkeys(zip(pp, pn)))
    sels = [[i for i in range(len(pts)) if (pp[i], pn[i]) == key] for key in keys]
    tasks = [(dataclasses.replace(base, psi_p=float(key[0]), psi_n=float(key[1])), tau[sel],
              d, seed, pmap.thresholds) for key, sel in zip(keys, sels)]
    sims = map_tasks(simulated_phase, tasks, executor, progress)
    rows = [None] * len(pts)
    for sel, sim in zip(sels, sims):
        for k, i in enumerate(sel):
            rows[i] = {"psi_n": float(pn[i]), "psi_p": float(pp[i]), "tau": float(tau[i]),
                       "theory": LABELS[int(th_labels[i])],
                       "simulation": LABELS[int(sim["label"][k])],
                       "theory_gen_loss": float(b.gen[i, 0]),
                       "simulation_gen_loss": float(sim["gen_loss"][k]),
                       "theory_score_error": float(b.score[i, 0]),
                       "simulation_score_error": float(sim["score_error"][k]),
                       "agree": int(th_labels[i]) == int(sim["label"][k])}
    return rows
