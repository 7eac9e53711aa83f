"""Confirmation of phase-map points by finite-size simulation (exact method)."""

from __future__ import annotations

import numpy as np

from ._flow import gradient_flow, learning_curves
from ._instance import finite_size_instance
from ._phase import LABELS, PhaseMap, _reference_grid, phase_labels
from ._problem import Problem
from ._validation import positive_int

__all__ = ["confirm_points", "simulated_phase"]


def _tau_gen(grid, score, factor):
    level = factor * np.min(score)
    i = int(np.argmax(score <= level))
    if i == 0:
        return float(grid[0])
    w = (score[i - 1] - level) / (score[i - 1] - score[i])
    return float(np.exp(np.log(grid[i - 1]) + w * (np.log(grid[i]) - np.log(grid[i - 1]))))


def simulated_phase(problem: Problem, tau, d: int = 100, seed: int = 0, thresholds=None):
    """Labels of a finite-size run (exact matrices) at training times ``tau``.

    Uses the same definitions as the theory: τ_gen from the curve on the same reference
    grid, L_gen(∞) from the flow's τ = ∞ limit.

    Args:
        problem: the model (its ψ_p, ψ_n are used).
        tau: training times.
        d: dimension.
        seed: seed of the draw.
        thresholds: :class:`rfdiff.PhaseThresholds` (default).

    Returns:
        dict with ``label`` (ints), ``gen_loss``, ``score_error`` at ``tau``, ``tau_gen`` and
        ``gen_loss_inf``.

    Raises:
        ValueError: for a bad size or times.
    """
    from ._phase import PhaseThresholds, _check_thresholds

    th = _check_thresholds(thresholds or PhaseThresholds())
    d = positive_int("d", d)
    tau = np.atleast_1d(np.asarray(tau, float))
    grid = _reference_grid(problem)
    flow = gradient_flow(finite_size_instance(problem, d, seed=seed))
    ref = learning_curves(flow, np.append(grid, np.inf))
    at = learning_curves(flow, tau)
    tgen = _tau_gen(grid, ref.score_error[:-1], th.gen_factor)
    ginf = float(ref.gen_loss[-1])
    return {"label": phase_labels(tau, at.gen_loss, ginf, tgen, th),
            "gen_loss": at.gen_loss, "score_error": at.score_error, "tau_gen": tgen,
            "gen_loss_inf": ginf}


def confirm_points(pmap: PhaseMap, points, d: int = 100, seed: int = 0) -> list[dict]:
    """Run finite-size instances at points of a phase map and compare the labels.

    Args:
        pmap: a :class:`rfdiff.PhaseMap`.
        points: list of (ψ_n, y) pairs, y = τ (``psi_n-tau`` maps) or ψ_p (``psi_n-psi_p``).
        d: dimension of the finite-size runs.
        seed: seed of the draws.

    Returns:
        One dict per point: ``psi_n``, ``psi_p``, ``tau``, ``theory`` and ``simulation``
        labels (names), their L_gen and E_score, and ``agree``.

    Raises:
        ValueError: for a bad size or points.
    """
    from ._batched_theory import batched_curves
    from ._phase import _reference

    base = pmap.problem
    pts = [(pmap.fixed, float(x), float(y)) if pmap.kind == "psi_n-tau"
           else (float(y), float(x), pmap.fixed) for x, y in points]
    pp = np.array([p[0] for p in pts])
    pn = np.array([p[1] for p in pts])
    tau = np.array([p[2] for p in pts])
    # theory for all points in one batch
    tr, te, sc, _ = batched_curves(base, pp, pn, np.stack([tau, np.full_like(tau, np.inf)], 1))
    tgen, ginf, _ = _reference(base, pp, pn, pmap.thresholds)
    th_labels = phase_labels(tau, te[:, 0] - tr[:, 0], ginf, tgen, pmap.thresholds)
    # one finite-size run per distinct (ψp, ψn), all its times at once
    sims = {}
    for key in dict.fromkeys(zip(pp, pn)):
        sel = [i for i in range(len(pts)) if (pp[i], pn[i]) == key]
        pr = Problem(key[0], key[1], base.t, base.activation, base.spectrum)
        sims[key] = (sel, simulated_phase(pr, tau[sel], d, seed, pmap.thresholds))
    rows = [None] * len(pts)
    for sel, sim in sims.values():
        for k, i in enumerate(sel):
            rows[i] = {"psi_n": float(pn[i]), "psi_p": float(pp[i]), "tau": float(tau[i]),
                       "theory": LABELS[int(th_labels[i])],
                       "simulation": LABELS[int(sim["label"][k])],
                       "theory_gen_loss": float(te[i, 0] - tr[i, 0]),
                       "simulation_gen_loss": float(sim["gen_loss"][k]),
                       "theory_score_error": float(sc[i, 0]),
                       "simulation_score_error": float(sim["score_error"][k]),
                       "agree": int(th_labels[i]) == int(sim["label"][k])}
    return rows
