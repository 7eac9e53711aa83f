"""Phase boundaries by root solves on the theory: τ_gen(ψ_n), τ_mem(ψ_n) and ψ_n*(ψ_p).

Each boundary is a crossing located on a grid (:func:`rfdiff._timescales.first_index`)
and solved by bisection in log space (:func:`rfdiff._timescales.bisect_log`) to a relative
accuracy of 1e-6. The definitions are those of :class:`rfdiff.TimescaleDefinitions`:
``tau_gen`` is ``tau_gen_reached``, ``tau_mem`` is ``tau_mem_level``, ``psi_n_star`` the
ψ_n at which L_gen(τ) reaches the same level.
"""

from __future__ import annotations

import numpy as np

from .._common import Status, check_converged, positive
from .._model import Problem
from .._timescales import PhaseThresholds, bisect_log, first_index
from .evaluate import _Probe, _Reference, _check_thresholds, _reference_curves, _theory_batch

__all__ = ["Boundaries", "time_boundaries", "size_boundary"]

_REL_TOL = 1e-6

# the glossary names of the keys (also with the ``boundary_`` prefix of the phase maps)
_NAMES = {"tau_gen_reached": "tau_gen", "tau_gen_argmin": "tau_gen_min",
          "tau_mem_level": "tau_mem"}


class Boundaries(dict):
    """Boundary curves: a dict (keys as documented by the function that returns it), with
    a :class:`rfdiff.Status`, the per-point ``converged`` mask and the glossary names as
    attributes (``b.tau_mem_level is b["tau_mem"]``).

    Attributes:
        status: :class:`rfdiff.Status` of the theory evaluations behind the boundaries.
        converged: per-point convergence (shape of the ψ values).
    """

    def __init__(self, data=(), status=Status.SUCCESSFUL, converged=None):
        super().__init__(data)
        self.status = Status(status)
        self.converged = converged

    def __getattr__(self, name):
        for key in (name, _NAMES.get(name), "boundary_" + _NAMES.get(name, name)):
            if key is not None and key in self:
                return self[key]
        raise AttributeError(name)

    def as_dict(self) -> dict:
        """JSON-ready dict (arrays as lists) with the same keys."""
        return {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in self.items()}


def _check(converged, what, where, throw):
    return check_converged(converged, what=what, where=where, throw=throw, stacklevel=4,
                           remedy="values there are returned as computed")


def _time_brackets(grid, gen, score, gen_inf, th):
    """Brackets of τ_gen and τ_mem on a reference grid, for B curves at once.

    ``gen`` and ``score`` are (B, T) on ``grid``; ``gen_inf`` is L_gen(∞). Returns the
    minimum of E_score, its index, the memorisation level, the two brackets ``(lo, hi)``
    and ``has`` (a memorisation crossing exists after the minimum).
    """
    smin, kmin = np.min(score, axis=1), np.argmin(score, axis=1)
    level = th.memorisation_level(gen_inf)
    # τ_gen: E_score − gen_factor·min goes from + to − before the minimum
    i_gen, _ = first_index(score, th.generalisation_level(smin), direction="down")
    gen_bracket = grid[np.maximum(i_gen - 1, 0)], grid[np.maximum(i_gen, 1)]
    # τ_mem: L_gen − level goes from − to + after the minimum of E_score
    i_mem, has = first_index(gen, level, start=kmin)
    mem_bracket = (np.where(has, grid[np.maximum(i_mem - 1, 0)], grid[0]),
                   np.where(has, grid[i_mem], grid[1]))
    return smin, kmin, level, gen_bracket, mem_bracket, has


def _solve_time_boundaries(grid, gen, score, gen_inf, at, th):
    """τ_gen, τ_mem by bisection; ``at(τ)`` gives (L_gen, E_score) of the B curves at
    their own times τ (shape (B,))."""
    smin, kmin, level, (glo, ghi), (mlo, mhi), has = _time_brackets(grid, gen, score,
                                                                     gen_inf, th)
    gen_level = th.generalisation_level(smin)
    tau_gen = bisect_log(lambda x: at(x)[1] - gen_level, glo, ghi, rel_tol=_REL_TOL)
    root = bisect_log(lambda x: at(x)[0] - level, mlo, mhi, rel_tol=_REL_TOL)
    return tau_gen, np.where(has, root, np.inf), grid[kmin]


def time_boundaries(problem: Problem, psi_n, thresholds=PhaseThresholds(), *,
                    throw: bool = False) -> Boundaries:
    """τ_gen(ψ_n) and τ_mem(ψ_n) at the ψ_p of ``problem``, by root solves on the theory.

    Args:
        problem: template (ψ_p, t, activation, ρ_Σ; its ψ_n is ignored).
        psi_n: ψ_n values.
        thresholds: :class:`rfdiff.tools.PhaseThresholds` (or any
            :class:`rfdiff.TimescaleDefinitions`).
        throw: raise :class:`rfdiff.NotConvergedError` when a theory evaluation did not
            converge (default: a RuntimeWarning names the ψ_n, values returned as computed).

    Returns:
        :class:`Boundaries` (a dict) with ``psi_n``; ``tau_gen`` (``tau_gen_reached``: first
        τ with E_score ≤ gen_factor × min); ``tau_gen_min`` (``tau_gen_argmin`` on the
        reference grid); ``tau_mem`` (``tau_mem_level``: first τ after the minimum with
        L_gen ≥ max(mem_fraction L_gen(∞), mem_threshold), ``inf`` when never);
        ``tau_mem_leading`` = ψ_n/(Δ_t v_t²); ``rel_accuracy``.

    Raises:
        ValueError: for invalid ψ_n or thresholds.
        NotConvergedError: with ``throw=True``, see above.
    """
    th = _check_thresholds(thresholds)
    psi_n = np.atleast_1d(np.asarray(psi_n, float))
    ref = _reference_curves(problem, np.full_like(psi_n, problem.psi_p), psi_n)
    b = _time_boundaries(problem, psi_n, th, ref)
    b.status = _check(b.converged, "time_boundaries", psi_n, throw)
    return b


def _time_boundaries(problem, psi_n, th, ref: _Reference) -> Boundaries:
    """The time boundaries from reference curves; the status is left to the caller."""
    probe = _Probe(problem, np.full_like(psi_n, problem.psi_p), psi_n)
    tau_gen, tau_mem, tau_min = _solve_time_boundaries(ref.grid, ref.gen, ref.score,
                                                       ref.gen_inf, probe, th)
    c = problem.coefficients
    return Boundaries({"psi_n": psi_n, "tau_gen": tau_gen, "tau_gen_min": tau_min,
                       "tau_mem": tau_mem,
                       "tau_mem_leading": psi_n / (problem.delta * float(c.v2)),
                       "rel_accuracy": _REL_TOL}, converged=ref.converged & probe.converged)


def size_boundary(problem: Problem, psi_p, tau: float, thresholds=PhaseThresholds(),
                  psi_n_range=(0.1, 1e4), *, throw: bool = False) -> Boundaries:
    """The fixed-τ memorisation boundary ψ_n*(ψ_p): memorising for ψ_n below it.

    Args:
        problem: template (t, activation, ρ_Σ).
        psi_p: ψ_p values.
        tau: the training time (> 0, finite).
        thresholds: :class:`rfdiff.tools.PhaseThresholds` (or any
            :class:`rfdiff.TimescaleDefinitions`).
        psi_n_range: search interval of ψ_n.
        throw: raise :class:`rfdiff.NotConvergedError` when a theory evaluation did not
            converge (default: a RuntimeWarning names the ψ_p, values returned as computed).

    Returns:
        :class:`Boundaries` (a dict) with ``psi_p``, ``psi_n_star`` (``nan`` where no
        crossing lies in the range), ``psi_n_star_leading`` = Δ_t v_t² τ (ψ_p ≫ ψ_n),
        ``architectural`` = ψ_p, ``boundary`` (list of [ψ_p, ψ_n*] pairs with a crossing),
        ``rel_accuracy``.

    Raises:
        ValueError: for invalid ψ_p, τ or thresholds.
        NotConvergedError: with ``throw=True``, see above.
    """
    th = _check_thresholds(thresholds)
    tau = positive("tau", tau)
    psi_p = np.atleast_1d(np.asarray(psi_p, float))
    out = _size_boundary(problem, psi_p, tau, th, psi_n_range)
    out.status = _check(out.converged, "size_boundary", psi_p, throw)
    return out


def _size_boundary(problem, psi_p, tau, th, psi_n_range) -> Boundaries:
    """The size boundary for validated arguments; the status is left to the caller."""
    scan = np.logspace(np.log10(psi_n_range[0]), np.log10(psi_n_range[1]), 41)
    P = np.repeat(psi_p, scan.size)
    N = np.tile(scan, psi_p.size)
    b = _theory_batch(problem, P, N, np.array([tau, np.inf]))
    gen = b.gen.reshape(psi_p.size, scan.size, 2)
    converged = b.converged.reshape(psi_p.size, -1).all(axis=1)
    mem = gen[..., 0] >= th.memorisation_level(gen[..., 1])
    # memorising at small ψ_n, not at large: the last memorising scan point brackets ψ_n*
    has = mem[:, 0] & ~np.all(mem, axis=1)
    k = np.where(has, np.argmin(mem, axis=1), 1)
    lo, hi = scan[np.maximum(k - 1, 0)], scan[k]

    def h(x):
        nonlocal converged
        bx = _theory_batch(problem, psi_p, x, np.stack([np.full_like(x, tau),
                                                         np.full_like(x, np.inf)], 1))
        converged = converged & bx.converged.all(axis=1)
        g = bx.gen
        return g[:, 0] - th.memorisation_level(g[:, 1])

    star = np.where(has, bisect_log(h, lo, hi, rel_tol=_REL_TOL), np.nan)
    c = problem.coefficients
    return Boundaries({
        "psi_p": psi_p, "psi_n_star": star,
        "psi_n_star_leading": np.full_like(psi_p, problem.delta * float(c.v2) * tau),
        "architectural": psi_p.copy(),
        "boundary": [[float(a), float(b)] for a, b in zip(psi_p, star) if np.isfinite(b)],
        "rel_accuracy": _REL_TOL}, converged=converged)
