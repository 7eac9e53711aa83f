import numpy as np
import pytest

import rfdiff
from rfdiff._asymptotic_curves import asymptotic_curves
from rfdiff._batched_theory import batched_curves
from rfdiff._phase import (LABELS, PhaseThresholds, phase_labels, phase_map_size,
                           phase_map_time, size_boundary, time_boundaries)
from rfdiff._phase_confirm import confirm_points


def test_batched_curves_match_single_problem_evaluation():
    tau = np.append(np.logspace(-1, 5, 7), np.inf)  # contains τ = 10 and 1000
    tr, te, sc, cv = batched_curves(rfdiff.Problem(1, 1, 0.1), [16, 64], [4, 32], tau)
    assert cv.all()
    for i, (pp, pn) in enumerate([(16, 4), (64, 32)]):
        ref = asymptotic_curves(rfdiff.Problem(pp, pn, 0.1), tau).curves
        np.testing.assert_allclose(te[i], ref.test_loss, rtol=0, atol=1e-12)
        np.testing.assert_allclose(sc[i], ref.score_error, rtol=0, atol=1e-12)
    # per-point times give the same values as the shared grid
    tr2, te2, _, _ = batched_curves(rfdiff.Problem(1, 1, 0.1), [16, 64], [4, 32],
                                    np.array([[10.0], [1e3]]))
    assert te2[0, 0] == pytest.approx(te[0, 2], abs=1e-12)
    assert te2[1, 0] == pytest.approx(te[1, 4], abs=1e-12)
    with pytest.raises(ValueError, match="psi_n must be finite and > 0"):
        batched_curves(rfdiff.Problem(1, 1, 0.1), [1.0], [-1.0], tau)


def test_phase_labels_logic():
    th = PhaseThresholds(2.0, 0.5, 0.05)
    lab = phase_labels(tau=np.array([1.0, 50.0, 50.0, 50.0]),
                       gen_loss=np.array([0.0, 0.01, 0.6, 0.04]),
                       gen_loss_inf=np.array([1.0, 1.0, 1.0, 0.06]),
                       tau_gen=10.0, thresholds=th)
    assert [LABELS[i] for i in lab] == ["not_generalising", "generalising", "memorising",
                                        "generalising"]
    with pytest.raises(ValueError, match="gen_factor must be > 1"):
        phase_labels(1.0, 0.0, 1.0, 1.0, PhaseThresholds(0.5, 0.5, 0.05))


@pytest.fixture(scope="module")
def time_map():
    problem = rfdiff.Problem(64, 8, 0.1)
    return phase_map_time(problem, np.array([2.0, 4.0, 8.0, 16.0]), np.logspace(0, 5, 11))


def test_time_boundaries_are_roots_to_stated_accuracy(time_map):
    b = time_map.boundaries
    tau_mem = np.asarray(b["boundary_tau_mem"])
    tau_gen = np.asarray(b["boundary_tau_gen"])
    assert np.all(tau_gen < tau_mem)
    assert np.all(np.diff(tau_mem) > 0)  # the window widens with n
    # L_gen − level changes sign within relative 1e-6 of the root
    th = time_map.thresholds
    pn = time_map.psi_n
    tr, te, _, _ = batched_curves(time_map.problem, np.full(pn.size, 64.0), pn,
                                  np.stack([tau_mem * (1 - 2e-6), tau_mem * (1 + 2e-6),
                                            np.full(pn.size, np.inf)], 1))
    g = te - tr
    level = np.maximum(th.mem_fraction * g[:, 2], th.mem_threshold)
    assert np.all(g[:, 0] < level) and np.all(g[:, 1] >= level)
    # leading order τ_mem ≈ ψn/(Δ v²): same order of magnitude
    ratio = tau_mem / np.asarray(b["boundary_tau_mem_leading"])
    assert np.all((ratio > 0.3) & (ratio < 3)), ratio


def test_time_map_labels_consistent_with_boundaries(time_map):
    b = time_map.boundaries
    for j, pn in enumerate(time_map.psi_n):
        for i, tau in enumerate(time_map.y):
            lab = LABELS[time_map.label[i, j]]
            if tau < 0.9 * b["boundary_tau_gen"][j]:
                assert lab == "not_generalising"
            elif 1.1 * b["boundary_tau_gen"][j] < tau < 0.9 * b["boundary_tau_mem"][j]:
                assert lab == "generalising"
            elif tau > 1.1 * b["boundary_tau_mem"][j]:
                assert lab == "memorising"


def test_fixed_tau_boundary_is_horizontal_for_large_psi_p():
    problem = rfdiff.Problem(1, 1, 0.1)
    tau = 1e3
    b = size_boundary(problem, [256.0, 1024.0], tau)
    star = b["psi_n_star"]
    assert np.all(np.isfinite(star))
    assert abs(star[1] / star[0] - 1) < 0.05  # independent of ψp when ψp ≫ ψn
    lead = problem.delta * float(problem.coefficients.v2) * tau
    # the relative criterion (half of L_gen(∞)) puts ψn* at a fixed fraction of Δ v² τ
    assert 0.3 < star[1] / lead < 1.0
    assert b["boundary"][0][0] == 256.0


def test_size_map_small_grid_runs_and_labels():
    problem = rfdiff.Problem(1, 1, 0.1)
    pm = phase_map_size(problem, np.array([0.5, 4.0, 64.0]), np.array([16.0, 256.0]), 1e3)
    assert pm.label.shape == (2, 3) and pm.converged.all()
    assert LABELS[pm.label[1, 0]] == "memorising"     # few data, long training
    assert LABELS[pm.label[1, 2]] == "generalising"   # ψn = 64 far above ψn* ≈ 1.3
    d = pm.as_dict()
    assert d["kind"] == "psi_n-psi_p" and "boundary" in d and d["tau"] == 1e3


def test_confirmation_small_size(time_map):
    # d = 24 finite-size runs at points far from the boundaries agree with the theory
    rows = confirm_points(time_map, [(4.0, 1.0), (4.0, 300.0), (4.0, 1e5)], d=24, seed=0)
    assert [r["theory"] for r in rows] == ["not_generalising", "generalising", "memorising"]
    assert all(r["agree"] for r in rows), rows
