"""Evaluations of the theory shared by the phase maps, their boundaries and confirmation.

One adapter reads :func:`rfdiff.core.batched_curves` (a :class:`rfdiff.Curves` record of (B, T)
arrays), and one set of reference curves locates τ_gen on the grid of
:func:`rfdiff._timescales.reference_tau`.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from .._theory import batched_curves
from .._timescales import PhaseThresholds, first_crossing, reference_tau


class _Batch(NamedTuple):
    """Curves of B points at T times each, shape (B, T)."""

    train: np.ndarray
    test: np.ndarray
    score: np.ndarray
    converged: np.ndarray

    @property
    def gen(self) -> np.ndarray:
        """L_gen = L_test − L_train."""
        return self.test - self.train


def _theory_batch(problem, psi_p, psi_n, tau, **kwargs) -> _Batch:
    """:func:`rfdiff.core.batched_curves` as a :class:`_Batch`."""
    res = batched_curves(problem, psi_p, psi_n, tau, **kwargs)
    return _Batch(res.train_loss, res.test_loss, res.score_error, res.converged)


def _check_thresholds(thresholds) -> PhaseThresholds:
    """The thresholds as a validated :class:`rfdiff.tools.PhaseThresholds` (any tuple in field
    order, e.g. a :class:`rfdiff.TimescaleDefinitions`)."""
    return PhaseThresholds.of(thresholds)


def _reference_grid(problem) -> np.ndarray:
    """The reference grid of ``problem`` (:func:`rfdiff._timescales.reference_tau`)."""
    return reference_tau(problem.delta)


def _grid_tau_gen(grid, score, th) -> np.ndarray:
    """``tau_gen_reached`` of (B, T) E_score curves on ``grid`` (log-interpolated)."""
    level = th.generalisation_level(np.min(score, axis=-1))
    t = first_crossing(grid, score, level, direction="down")
    # reached on any curve with a finite minimum; otherwise (a curve that did not
    # converge) the first grid time, so that no point of it is labelled early
    return np.where(np.isfinite(t), t, grid[0])


class _Reference(NamedTuple):
    grid: np.ndarray        # (T,) reference times
    gen: np.ndarray         # (B, T) L_gen on the grid
    score: np.ndarray       # (B, T) E_score on the grid
    gen_inf: np.ndarray     # (B,) L_gen(∞)
    converged: np.ndarray   # (B,)


def _reference_curves(problem, psi_p, psi_n, nodes=None, progress=None) -> _Reference:
    grid = _reference_grid(problem)
    kw = {} if nodes is None else {"nodes": nodes}
    b = _theory_batch(problem, psi_p, psi_n, np.append(grid, np.inf), progress=progress, **kw)
    g = b.gen
    return _Reference(grid, g[:, :-1], b.score[:, :-1], g[:, -1], np.all(b.converged, axis=1))


def _reference(problem, psi_p, psi_n, thresholds, progress=None):
    """τ_gen (``tau_gen_reached`` on the reference grid), L_gen(∞) and convergence for
    each (ψ_p, ψ_n)."""
    # 16 Talbot nodes (relative error ~1e-7) are ample for a threshold crossing
    ref = _reference_curves(problem, psi_p, psi_n, nodes=16, progress=progress)
    return _grid_tau_gen(ref.grid, ref.score, thresholds), ref.gen_inf, ref.converged


@dataclasses.dataclass
class _Probe:
    """(L_gen, E_score) of each point at its own time τ (B,), recording whether every
    probe converged (the bisections call it once per step)."""

    problem: object
    psi_p: np.ndarray
    psi_n: np.ndarray
    converged: np.ndarray = None

    def __post_init__(self):
        self.converged = np.ones(np.shape(self.psi_n), bool)

    def __call__(self, tau):
        b = _theory_batch(self.problem, self.psi_p, self.psi_n,
                          np.asarray(tau, float)[:, None])
        self.converged &= b.converged[:, 0]
        return b.gen[:, 0], b.score[:, 0]
