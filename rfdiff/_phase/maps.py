"""Phase diagram of generalisation and memorisation, from the asymptotic theory.

Labels at a training time τ (thresholds stated in :class:`PhaseThresholds`):

- ``memorising`` when L_gen(τ) ≥ max(mem_fraction · L_gen(∞), mem_threshold): the
  memorisation rise of L_gen is at least half done (default) and it is not negligible;
- ``not_generalising`` when not memorising and τ is before τ_gen, the first time at which
  E_score ≤ gen_factor · min_τ' E_score(τ') (the population score is not learned yet);
- ``generalising`` otherwise (after τ_gen, before memorisation).

Boundaries are curves from root solves on the theory (bisection in log τ or log ψ_n, to a
relative accuracy of 1e-6): τ_gen(ψ_n) and τ_mem(ψ_n) at fixed ψ_p, and ψ_n*(ψ_p) at fixed
τ, with the architectural line ψ_n = ψ_p and the leading-order formulas beside them
(τ_mem ≈ ψ_n/(Δ_t v_t²), ψ_n* ≈ Δ_t v_t² τ for ψ_p ≫ ψ_n).
"""

from __future__ import annotations

import dataclasses
import sys
from typing import NamedTuple

import numpy as np

from .._theory.batched import batched_curves
from .._model.problem import Problem
from .._common.validation import positive

__all__ = ["PhaseThresholds", "PhaseMap", "LABELS", "phase_map_time", "phase_map_size",
           "time_boundaries", "size_boundary", "phase_labels"]

LABELS = ("not_generalising", "generalising", "memorising")
_REL_TOL = 1e-6


class PhaseThresholds(NamedTuple):
    """Thresholds of the phase labels (see the module docstring).

    Attributes:
        gen_factor: E_score within this factor of its minimum counts as generalising.
        mem_fraction: L_gen at this fraction of L_gen(∞) counts as memorising.
        mem_threshold: ... provided L_gen is at least this large.
    """

    gen_factor: float = 2.0
    mem_fraction: float = 0.5
    mem_threshold: float = 0.25

    def describe(self) -> str:
        """The definitions with the values."""
        return (f"memorising: L_gen(tau) >= max({self.mem_fraction:g} x L_gen(inf), "
                f"{self.mem_threshold:g}); not_generalising: not memorising and tau < tau_gen, "
                f"the first time E_score <= {self.gen_factor:g} x its minimum over tau; "
                "generalising: otherwise")


def _mem_level(gen_inf, th):
    """The L_gen level at and above which a point is memorising."""
    return np.maximum(th.mem_fraction * np.asarray(gen_inf), th.mem_threshold)


def _check_thresholds(th):
    th = PhaseThresholds(*th) if not isinstance(th, PhaseThresholds) else th
    positive("mem_threshold", th.mem_threshold)
    if not th.gen_factor > 1:
        raise ValueError(f"gen_factor must be > 1, got {th.gen_factor!r}")
    if not 0 < th.mem_fraction < 1:
        raise ValueError(f"mem_fraction must be in (0, 1), got {th.mem_fraction!r}")
    return th


def _reference_grid(problem):
    # the minimum of E_score sits at τ ~ ψ_p/(Δ_t λ(ρ₂)) = O(1/Δ_t): scan well around it
    lo = np.log10(0.01 / problem.delta)
    return np.logspace(lo, lo + 6, 49)


@dataclasses.dataclass(frozen=True)
class PhaseMap:
    """A phase map with its boundaries.

    Attributes:
        kind: ``"psi_n-tau"`` (fixed ψ_p) or ``"psi_n-psi_p"`` (fixed τ).
        psi_n: (Nx,) ψ_n values (x axis).
        y: (Ny,) τ values or ψ_p values (y axis).
        fixed: the fixed ψ_p or τ.
        gen_loss, score_error: (Ny, Nx) maps.
        label: (Ny, Nx) integer labels, indices into :data:`LABELS`.
        converged: (Ny, Nx) convergence of the theory.
        boundaries: dict of boundary curves (see :func:`time_boundaries`,
            :func:`size_boundary`).
        thresholds: the :class:`PhaseThresholds`.
        problem: the template :class:`Problem` (t, activation, ρ_Σ).
    """

    kind: str
    psi_n: np.ndarray
    y: np.ndarray
    fixed: float
    gen_loss: np.ndarray
    score_error: np.ndarray
    label: np.ndarray
    converged: np.ndarray
    boundaries: dict
    thresholds: PhaseThresholds
    problem: Problem

    def as_dict(self) -> dict:
        """JSON-ready dict (grids, labels, boundaries, definitions)."""
        y_name = "tau" if self.kind == "psi_n-tau" else "psi_p"
        fixed_name = "psi_p" if self.kind == "psi_n-tau" else "tau"
        return {"kind": self.kind, "psi_n": self.psi_n.tolist(), y_name: self.y.tolist(),
                fixed_name: self.fixed, "gen_loss": self.gen_loss.tolist(),
                "score_error": self.score_error.tolist(), "label": self.label.tolist(),
                "label_names": list(LABELS), "converged": self.converged.tolist(),
                "definitions": self.thresholds.describe(),
                **{k: (v.tolist() if hasattr(v, "tolist") else v)
                   for k, v in self.boundaries.items()}}


def phase_labels(tau, gen_loss, gen_loss_inf, tau_gen, thresholds) -> np.ndarray:
    """Integer labels (indices into :data:`LABELS`) from the curve values at τ.

    Args:
        tau: training times.
        gen_loss: L_gen(τ).
        gen_loss_inf: L_gen(∞).
        tau_gen: first time at which E_score ≤ gen_factor × its minimum.
        thresholds: :class:`PhaseThresholds`.
        (All broadcastable.)

    Returns:
        Integer array of labels.

    Raises:
        ValueError: for invalid thresholds.
    """
    th = _check_thresholds(thresholds)
    level = _mem_level(gen_loss_inf, th)
    mem = np.asarray(gen_loss) >= level
    early = np.asarray(tau) < np.asarray(tau_gen)
    return np.where(mem, 2, np.where(early, 0, 1))


def _progress_printer(label):
    def report(done, total):
        print(f"\r[rfdiff] {label}: {done}/{total} parameter points", end="",
              file=sys.stderr, flush=True)
        if done >= total:
            print(file=sys.stderr)
    return report


def _grid_tau_gen(grid, score, factor):
    """First grid crossing of factor × min E_score, log-interpolated, for (B, T) curves."""
    level = factor * np.min(score, axis=1)
    i = np.argmax(score <= level[:, None], axis=1)
    j = np.maximum(i - 1, 0)
    rows = np.arange(len(i))
    s0, s1 = score[rows, j], score[rows, i]
    w = np.where(i > 0, (s0 - level) / np.where(s0 != s1, s0 - s1, 1.0), 0.0)
    return np.exp(np.log(grid[j]) + w * (np.log(grid[i]) - np.log(grid[j])))


class _Reference(NamedTuple):
    grid: np.ndarray        # (T,) reference times
    gen: np.ndarray         # (B, T) L_gen on the grid
    score: np.ndarray       # (B, T) E_score on the grid
    gen_inf: np.ndarray     # (B,) L_gen(∞)
    converged: np.ndarray   # (B,)


def _reference_curves(problem, psi_p, psi_n, nodes=None, progress=None) -> _Reference:
    grid = _reference_grid(problem)
    kw = {} if nodes is None else {"nodes": nodes}
    tr, te, sc, cv = batched_curves(problem, psi_p, psi_n, np.append(grid, np.inf),
                                    progress=progress, **kw)
    return _Reference(grid, (te - tr)[:, :-1], sc[:, :-1], (te - tr)[:, -1],
                      np.all(cv, axis=1))


def _reference(problem, psi_p, psi_n, thresholds, progress=None):
    """τ_gen (first grid crossing of gen_factor × min E_score, log-interpolated), L_gen(∞)
    and convergence for each (ψ_p, ψ_n)."""
    # 16 Talbot nodes (relative error ~1e-7) are ample for a threshold crossing
    ref = _reference_curves(problem, psi_p, psi_n, nodes=16, progress=progress)
    return (_grid_tau_gen(ref.grid, ref.score, thresholds.gen_factor), ref.gen_inf,
            ref.converged)


def _bisect(fn, lo, hi, iters):
    """Vectorised bisection in log space for fn(x) ≥ 0 at lo and < 0 at hi (or reverse)."""
    flo = fn(lo) >= 0
    for _ in range(iters):
        mid = np.sqrt(lo * hi)
        fm = fn(mid) >= 0
        same = fm == flo
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return np.sqrt(lo * hi)


def _iters(lo, hi):
    span = np.nanmax(np.abs(np.log(hi / lo))) if np.size(lo) else 1.0
    return int(np.ceil(np.log2(max(span, 1e-12) / _REL_TOL))) + 1


def _at(problem, psi_p, psi_n, tau):
    """(L_gen, E_score) of each point at its own time (arrays of length B)."""
    tr, te, sc, _ = batched_curves(problem, psi_p, psi_n, np.asarray(tau, float)[:, None])
    return (te - tr)[:, 0], sc[:, 0]


def _time_brackets(grid, gen, score, gen_inf, th):
    """Brackets of τ_gen and τ_mem on a reference grid, for B curves at once.

    ``gen`` and ``score`` are (B, T) on ``grid``; ``gen_inf`` is L_gen(∞). Returns the
    minimum of E_score, its index, the memorisation level, the two brackets ``(lo, hi)``
    and ``has`` (a memorisation crossing exists after the minimum).
    """
    smin, kmin = np.min(score, axis=1), np.argmin(score, axis=1)
    level = _mem_level(gen_inf, th)
    # τ_gen: E_score − gen_factor·min goes from + to − before the minimum
    i_gen = np.argmax(score <= (th.gen_factor * smin)[:, None], axis=1)
    gen_bracket = grid[np.maximum(i_gen - 1, 0)], grid[np.maximum(i_gen, 1)]
    # τ_mem: L_gen − level goes from − to + after the minimum of E_score
    after = np.arange(grid.size)[None, :] >= kmin[:, None]
    above = (gen >= level[:, None]) & after
    has = np.any(above, axis=1)
    i_mem = np.argmax(above, axis=1)
    mem_bracket = (np.where(has, grid[np.maximum(i_mem - 1, 0)], grid[0]),
                   np.where(has, grid[i_mem], grid[1]))
    return smin, kmin, level, gen_bracket, mem_bracket, has


def _solve_time_boundaries(grid, gen, score, gen_inf, at, th):
    """τ_gen, τ_mem by bisection; ``at(τ)`` gives (L_gen, E_score) of the B curves at
    their own times τ (shape (B,))."""
    smin, kmin, level, (glo, ghi), (mlo, mhi), has = _time_brackets(grid, gen, score,
                                                                     gen_inf, th)
    tau_gen = _bisect(lambda x: at(x)[1] - th.gen_factor * smin, glo, ghi, _iters(glo, ghi))
    root = _bisect(lambda x: at(x)[0] - level, mlo, mhi, _iters(mlo, mhi))
    return tau_gen, np.where(has, root, np.inf), grid[kmin]


def time_boundaries(problem: Problem, psi_n, thresholds=PhaseThresholds()) -> dict:
    """τ_gen(ψ_n) and τ_mem(ψ_n) at the ψ_p of ``problem``, by root solves on the theory.

    Args:
        problem: template (ψ_p, t, activation, ρ_Σ; its ψ_n is ignored).
        psi_n: ψ_n values.
        thresholds: :class:`PhaseThresholds`.

    Returns:
        dict with ``psi_n``; ``tau_gen`` (first τ with E_score ≤ gen_factor × min);
        ``tau_gen_min`` (argmin of E_score on the reference grid); ``tau_mem`` (first τ
        after the minimum with L_gen ≥ max(mem_fraction L_gen(∞), mem_threshold), ``inf``
        when never); ``tau_mem_leading`` = ψ_n/(Δ_t v_t²); ``rel_accuracy``.

    Raises:
        ValueError: for invalid ψ_n or thresholds.
    """
    th = _check_thresholds(thresholds)
    psi_n = np.atleast_1d(np.asarray(psi_n, float))
    ref = _reference_curves(problem, np.full_like(psi_n, problem.psi_p), psi_n)
    return _time_boundaries(problem, psi_n, th, ref)


def _time_boundaries(problem, psi_n, th, ref: _Reference) -> dict:
    psi_p = np.full_like(psi_n, problem.psi_p)
    tau_gen, tau_mem, tau_min = _solve_time_boundaries(
        ref.grid, ref.gen, ref.score, ref.gen_inf, lambda x: _at(problem, psi_p, psi_n, x), th)
    c = problem.coefficients
    return {"psi_n": psi_n, "tau_gen": tau_gen, "tau_gen_min": tau_min, "tau_mem": tau_mem,
            "tau_mem_leading": psi_n / (problem.delta * float(c.v2)),
            "rel_accuracy": _REL_TOL}


def size_boundary(problem: Problem, psi_p, tau: float, thresholds=PhaseThresholds(),
                  psi_n_range=(0.1, 1e4)) -> dict:
    """The fixed-τ memorisation boundary ψ_n*(ψ_p): memorising for ψ_n below it.

    Args:
        problem: template (t, activation, ρ_Σ).
        psi_p: ψ_p values.
        tau: the training time (> 0, finite).
        thresholds: :class:`PhaseThresholds`.
        psi_n_range: search interval of ψ_n.

    Returns:
        dict with ``psi_p``, ``psi_n_star`` (``nan`` where no crossing lies in the range),
        ``psi_n_star_leading`` = Δ_t v_t² τ (ψ_p ≫ ψ_n), ``architectural`` = ψ_p,
        ``boundary`` (list of [ψ_p, ψ_n*] pairs with a crossing), ``rel_accuracy``.

    Raises:
        ValueError: for invalid ψ_p, τ or thresholds.
    """
    th = _check_thresholds(thresholds)
    tau = positive("tau", tau)
    psi_p = np.atleast_1d(np.asarray(psi_p, float))
    scan = np.logspace(np.log10(psi_n_range[0]), np.log10(psi_n_range[1]), 41)
    P = np.repeat(psi_p, scan.size)
    N = np.tile(scan, psi_p.size)
    grid = np.array([tau, np.inf])
    tr, te, _, _ = batched_curves(problem, P, N, grid)
    gen = (te - tr).reshape(psi_p.size, scan.size, 2)
    mem = gen[..., 0] >= _mem_level(gen[..., 1], th)
    # memorising at small ψ_n, not at large: the last memorising scan point brackets ψ_n*
    has = mem[:, 0] & ~np.all(mem, axis=1)
    k = np.where(has, np.argmin(mem, axis=1), 1)
    lo, hi = scan[np.maximum(k - 1, 0)], scan[k]

    def h(x):
        tr1, te1, _, _ = batched_curves(problem, psi_p, x, np.stack([np.full_like(x, tau),
                                                                      np.full_like(x, np.inf)], 1))
        g = te1 - tr1
        return g[:, 0] - _mem_level(g[:, 1], th)

    star = np.where(has, _bisect(h, lo, hi, _iters(lo, hi)), np.nan)
    c = problem.coefficients
    return {"psi_p": psi_p, "psi_n_star": star,
            "psi_n_star_leading": np.full_like(psi_p, problem.delta * float(c.v2) * tau),
            "architectural": psi_p.copy(),
            "boundary": [[float(a), float(b)] for a, b in zip(psi_p, star) if np.isfinite(b)],
            "rel_accuracy": _REL_TOL}


def phase_map_time(problem: Problem, psi_n, tau, thresholds=PhaseThresholds(),
                   progress: bool = False) -> PhaseMap:
    """Map over (ψ_n, τ) at the ψ_p of ``problem``: L_gen, E_score, labels, boundaries.

    Args:
        problem: template (ψ_p, t, activation, ρ_Σ).
        psi_n: (Nx,) ψ_n values.
        tau: (Ny,) training times (> 0, finite).
        thresholds: :class:`PhaseThresholds`.
        progress: print progress on stderr.

    Returns:
        :class:`PhaseMap` of kind ``"psi_n-tau"``.

    Raises:
        ValueError: for invalid grids or thresholds.
    """
    th = _check_thresholds(thresholds)
    psi_n = np.atleast_1d(np.asarray(psi_n, float))
    tau = np.atleast_1d(np.asarray(tau, float))
    if np.any(~np.isfinite(tau)) or np.any(tau <= 0):
        raise ValueError(f"tau must be finite and > 0, got {tau!r}")
    psi_p = np.full_like(psi_n, problem.psi_p)
    pr = _progress_printer("phase map") if progress else None
    tr, te, sc, cv = batched_curves(problem, psi_p, psi_n, np.append(tau, np.inf), progress=pr)
    pr = _progress_printer("reference curves (tau_gen)") if progress else None
    # one set of reference curves serves the labels and the boundary brackets
    ref = _reference_curves(problem, psi_p, psi_n, progress=pr)
    tgen = _grid_tau_gen(ref.grid, ref.score, th.gen_factor)
    gen, score = (te - tr)[:, :-1].T, sc[:, :-1].T
    label = phase_labels(tau[:, None], gen, ref.gen_inf[None, :], tgen[None, :], th)
    if progress:
        print("[rfdiff] boundary curves: root solves", file=sys.stderr, flush=True)
    bounds = _time_boundaries(problem, psi_n, th, ref)
    bounds = {f"boundary_{k}" if k != "psi_n" else k: v for k, v in bounds.items()}
    bounds.pop("psi_n")
    bounds["architectural_psi_n"] = float(problem.psi_p)
    return PhaseMap("psi_n-tau", psi_n, tau, float(problem.psi_p), gen, score, label,
                    (cv[:, :-1] & ref.converged[:, None]).T, bounds, th, problem)


def phase_map_size(problem: Problem, psi_n, psi_p, tau: float, thresholds=PhaseThresholds(),
                   progress: bool = False) -> PhaseMap:
    """Map over (ψ_n, ψ_p) at training time τ: L_gen, E_score, labels, boundary ψ_n*(ψ_p).

    Args:
        problem: template (t, activation, ρ_Σ).
        psi_n: (Nx,) ψ_n values.
        psi_p: (Ny,) ψ_p values.
        tau: the training time (> 0, finite).
        thresholds: :class:`PhaseThresholds`.
        progress: print progress on stderr.

    Returns:
        :class:`PhaseMap` of kind ``"psi_n-psi_p"``; ``boundaries["boundary"]`` is the list
        of [ψ_p, ψ_n*] pairs.

    Raises:
        ValueError: for invalid grids, τ or thresholds.
    """
    th = _check_thresholds(thresholds)
    tau = positive("tau", tau)
    psi_n = np.atleast_1d(np.asarray(psi_n, float))
    psi_p = np.atleast_1d(np.asarray(psi_p, float))
    P, N = np.meshgrid(psi_p, psi_n, indexing="ij")
    pr = _progress_printer("phase map") if progress else None
    tr, te, sc, cv = batched_curves(problem, P.ravel(), N.ravel(), np.array([tau, np.inf]),
                                    progress=pr)
    pr = _progress_printer("reference curves (tau_gen)") if progress else None
    tgen, _, cref = _reference(problem, P.ravel(), N.ravel(), th, progress=pr)
    shape = P.shape
    gen, ginf = (te - tr)[:, 0].reshape(shape), (te - tr)[:, 1].reshape(shape)
    score = sc[:, 0].reshape(shape)
    label = phase_labels(tau, gen, ginf, tgen.reshape(shape), th)
    if progress:
        print("[rfdiff] boundary curves: root solves", file=sys.stderr, flush=True)
    bounds = size_boundary(problem, psi_p, tau, th,
                           psi_n_range=(min(psi_n.min(), 0.1), max(psi_n.max(), 1e4)))
    bounds.pop("psi_p")
    converged = (cv.all(axis=1) & cref).reshape(shape)
    return PhaseMap("psi_n-psi_p", psi_n, psi_p, tau, gen, score, label, converged, bounds,
                    th, problem)
