"""Phase diagram of generalisation and memorisation, from the asymptotic theory.

Labels at a training time τ (thresholds stated in :class:`PhaseThresholds`):

- ``memorising`` when L_gen(τ) ≥ max(mem_fraction · L_gen(∞), mem_threshold): the
  memorisation rise of L_gen is at least half done (default) and it is not negligible;
- ``not_generalising`` when not memorising and τ is before τ_gen, the first time at which
  E_score ≤ gen_factor · min_τ' E_score(τ') (the population score is not learned yet);
- ``generalising`` otherwise (after τ_gen, before memorisation).

Boundaries are curves from root solves on the theory (:mod:`rfdiff._phase.boundaries`:
bisection in log τ or log ψ_n, to a relative accuracy of 1e-6): τ_gen(ψ_n) and τ_mem(ψ_n)
at fixed ψ_p, and ψ_n*(ψ_p) at fixed τ, with the architectural line ψ_n = ψ_p and the
leading-order formulas beside them (τ_mem ≈ ψ_n/(Δ_t v_t²), ψ_n* ≈ Δ_t v_t² τ for
ψ_p ≫ ψ_n). In the names of :class:`rfdiff.TimescaleDefinitions`, the labels' τ_gen is
``tau_gen_reached`` and their memorisation level that of ``tau_mem_level``.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from .._common import Status, positive
from .._model import Problem
from .._timescales import PhaseThresholds
from .boundaries import (Boundaries, _check, _size_boundary, _time_boundaries,
                         size_boundary, time_boundaries)
# _reference_grid is also read here by the finite-size checks of the tests
from .evaluate import (_check_thresholds, _grid_tau_gen, _reference, _reference_curves,
                       _reference_grid, _theory_batch)  # noqa: F401

__all__ = ["PhaseThresholds", "PhaseMap", "LABELS", "phase_map_time", "phase_map_size",
           "time_boundaries", "size_boundary", "phase_labels"]

LABELS = ("not_generalising", "generalising", "memorising")


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
        status: :class:`rfdiff.Status` of the map and its boundaries.
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
    status: Status = Status.SUCCESSFUL

    def as_dict(self) -> dict:
        """JSON-ready dict (grids, labels, boundaries, definitions)."""
        y_name = "tau" if self.kind == "psi_n-tau" else "psi_p"
        fixed_name = "psi_p" if self.kind == "psi_n-tau" else "tau"
        return {"kind": self.kind, "psi_n": self.psi_n.tolist(), y_name: self.y.tolist(),
                fixed_name: self.fixed, "gen_loss": self.gen_loss.tolist(),
                "score_error": self.score_error.tolist(), "label": self.label.tolist(),
                "label_names": list(LABELS), "converged": self.converged.tolist(),
                "definitions": self.thresholds.describe("phase"),
                "status": self.status.name.lower(),
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
    mem = np.asarray(gen_loss) >= th.memorisation_level(gen_loss_inf)
    early = np.asarray(tau) < np.asarray(tau_gen)
    return np.where(mem, 2, np.where(early, 0, 1))


def _progress_printer(label):
    def report(done, total):
        print(f"\r[rfdiff] {label}: {done}/{total} parameter points", end="",
              file=sys.stderr, flush=True)
        if done >= total:
            print(file=sys.stderr)
    return report


def _grid(name: str, values) -> np.ndarray:
    """A non-empty 1-D grid of finite values > 0, or a ValueError naming it."""
    try:
        grid = np.atleast_1d(np.asarray(values, float))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 1-D array of numbers, got {values!r}") from None
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got {values!r}")
    if np.any(~np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {grid!r}")
    return grid


def phase_map_time(problem: Problem, psi_n, tau, thresholds=PhaseThresholds(),
                   progress: bool = False, *, throw: bool = False) -> PhaseMap:
    """Map over (ψ_n, τ) at the ψ_p of ``problem``: L_gen, E_score, labels, boundaries.

    Args:
        problem: template (ψ_p, t, activation, ρ_Σ).
        psi_n: (Nx,) ψ_n values.
        tau: (Ny,) training times (> 0, finite).
        thresholds: :class:`PhaseThresholds`.
        progress: print progress on stderr.
        throw: raise :class:`rfdiff.NotConvergedError` when a theory evaluation did not
            converge (default: a RuntimeWarning names the ψ_n, values returned as computed
            and flagged in ``converged``).

    Returns:
        :class:`PhaseMap` of kind ``"psi_n-tau"``; its boundaries are a
        :class:`rfdiff._phase.boundaries.Boundaries` dict with the keys of
        :func:`time_boundaries` prefixed by ``boundary_`` and ``architectural_psi_n``.

    Raises:
        ValueError: for invalid grids or thresholds.
        NotConvergedError: with ``throw=True``, see above.
    """
    th = _check_thresholds(thresholds)
    psi_n = _grid("psi_n", psi_n)
    tau = _grid("tau", tau)
    psi_p = np.full_like(psi_n, problem.psi_p)
    pr = _progress_printer("phase map") if progress else None
    b = _theory_batch(problem, psi_p, psi_n, np.append(tau, np.inf), progress=pr)
    pr = _progress_printer("reference curves (tau_gen)") if progress else None
    # one set of reference curves serves the labels and the boundary brackets
    ref = _reference_curves(problem, psi_p, psi_n, progress=pr)
    tgen = _grid_tau_gen(ref.grid, ref.score, th)
    gen, score = b.gen[:, :-1].T, b.score[:, :-1].T
    label = phase_labels(tau[:, None], gen, ref.gen_inf[None, :], tgen[None, :], th)
    if progress:
        print("[rfdiff] boundary curves: root solves", file=sys.stderr, flush=True)
    tb = _time_boundaries(problem, psi_n, th, ref)
    converged = (b.converged[:, :-1] & ref.converged[:, None]).T
    status = _check(converged.all(axis=0) & tb.converged, "phase_map_time", psi_n, throw)
    bounds = Boundaries({f"boundary_{k}": v for k, v in tb.items() if k != "psi_n"},
                        status, tb.converged)
    bounds["architectural_psi_n"] = float(problem.psi_p)
    return PhaseMap("psi_n-tau", psi_n, tau, float(problem.psi_p), gen, score, label,
                    converged, bounds, th, problem, status)


def phase_map_size(problem: Problem, psi_n, psi_p, tau: float, thresholds=PhaseThresholds(),
                   progress: bool = False, *, throw: bool = False) -> PhaseMap:
    """Map over (ψ_n, ψ_p) at training time τ: L_gen, E_score, labels, boundary ψ_n*(ψ_p).

    Args:
        problem: template (t, activation, ρ_Σ).
        psi_n: (Nx,) ψ_n values.
        psi_p: (Ny,) ψ_p values.
        tau: the training time (> 0, finite).
        thresholds: :class:`PhaseThresholds`.
        progress: print progress on stderr.
        throw: raise :class:`rfdiff.NotConvergedError` when a theory evaluation did not
            converge (default: a RuntimeWarning names the ψ_p, values returned as computed
            and flagged in ``converged``).

    Returns:
        :class:`PhaseMap` of kind ``"psi_n-psi_p"``; ``boundaries["boundary"]`` is the list
        of [ψ_p, ψ_n*] pairs.

    Raises:
        ValueError: for invalid grids, τ or thresholds.
        NotConvergedError: with ``throw=True``, see above.
    """
    th = _check_thresholds(thresholds)
    tau = positive("tau", tau)
    psi_n = _grid("psi_n", psi_n)
    psi_p = _grid("psi_p", psi_p)
    P, N = np.meshgrid(psi_p, psi_n, indexing="ij")
    pr = _progress_printer("phase map") if progress else None
    b = _theory_batch(problem, P.ravel(), N.ravel(), np.array([tau, np.inf]), progress=pr)
    pr = _progress_printer("reference curves (tau_gen)") if progress else None
    tgen, _, cref = _reference(problem, P.ravel(), N.ravel(), th, progress=pr)
    shape = P.shape
    gen, ginf = b.gen[:, 0].reshape(shape), b.gen[:, 1].reshape(shape)
    score = b.score[:, 0].reshape(shape)
    label = phase_labels(tau, gen, ginf, tgen.reshape(shape), th)
    if progress:
        print("[rfdiff] boundary curves: root solves", file=sys.stderr, flush=True)
    bounds = _size_boundary(problem, psi_p, tau, th,
                            (min(psi_n.min(), 0.1), max(psi_n.max(), 1e4)))
    bounds.pop("psi_p")
    converged = (b.converged.all(axis=1) & cref).reshape(shape)
    bounds.status = _check(converged.all(axis=1) & bounds.converged, "phase_map_size", psi_p,
                           throw)
    return PhaseMap("psi_n-psi_p", psi_n, psi_p, tau, gen, score, label, converged, bounds,
                    th, problem, bounds.status)
