import numpy as np
import pytest

import rfdiff
from rfdiff._theory.curves import asymptotic_curves
from rfdiff._theory.batched import batched_curves
from rfdiff._phase.maps import (LABELS, PhaseThresholds, phase_labels, phase_map_size,
                           phase_map_time, size_boundary, time_boundaries)
from rfdiff._phase.confirm import confirm_points


def test_batched_curves_match_single_problem_evaluation():
    tau = np.append(np.logspace(-1, 5, 7), np.inf)  # contains τ = 10 and 1000
    c = batched_curves(rfdiff.Problem(1, 1, 0.1), [16, 64], [4, 32], tau)
    te, sc, cv = c.test_loss, c.score_error, c.converged
    assert cv.all()
    for i, (pp, pn) in enumerate([(16, 4), (64, 32)]):
        ref = asymptotic_curves(rfdiff.Problem(pp, pn, 0.1), tau).curves
        np.testing.assert_allclose(te[i], ref.test_loss, rtol=0, atol=1e-12)
        np.testing.assert_allclose(sc[i], ref.score_error, rtol=0, atol=1e-12)
    # per-point times give the same values as the shared grid
    te2 = batched_curves(rfdiff.Problem(1, 1, 0.1), [16, 64], [4, 32],
                         np.array([[10.0], [1e3]])).test_loss
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
    g = batched_curves(time_map.problem, np.full(pn.size, 64.0), pn,
                       np.stack([tau_mem * (1 - 2e-6), tau_mem * (1 + 2e-6),
                                 np.full(pn.size, np.inf)], 1)).gen_loss
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


@pytest.mark.slow  # > 10 s on 2 cores; run with -m slow
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


def test_diffusion_time_dependence_ratio_scales_as_inverse_t():
    # the paper: τ_mem/τ_gen ~ 1/t when p ~ n. τ_gen ∝ 1/Δ_t at small t, and the memorisation
    # bulk's left edge (≈ s_t² at ψn ≈ ψp) vanishes with t, so τ_mem grows faster.
    t = np.array([0.01, 0.02, 0.05, 0.1])
    dep = rfdiff.diffusion_time_dependence(rfdiff.Problem(32, 16, 0.1), t,
                                           tau=np.logspace(0, 7, 15))
    assert np.all(np.isfinite(dep.tau_mem)) and np.all(dep.tau_gen < dep.tau_mem)
    # measured −1.07 (curves): within 0.2 of −1
    assert -1.2 < dep.ratio_exponent < -0.8, dep.ratio_exponent
    # τ_gen Δ_t constant within 15 % over a decade of t
    g = dep.tau_gen * dep.delta
    assert g.max() / g.min() < 1.15, g
    # at p = n the spectral ratio follows ~1/t too (measured −0.83: s_t² ∝ t^0.86)
    dep_n = rfdiff.diffusion_time_dependence(rfdiff.Problem(16, 16, 0.1), t[[0, -1]],
                                             tau=np.logspace(0, 7, 8))
    assert -1.1 < dep_n.spectral_ratio_exponent < -0.7, dep_n.spectral_ratio_exponent
    assert dep.label.shape == (15, 4)
    d = dep.as_dict()
    assert d["ratio_exponent"] == dep.ratio_exponent and "definitions" in d
    with pytest.raises(ValueError, match="t must be > 0"):
        rfdiff.diffusion_time_dependence(rfdiff.Problem(32, 16, 0.1), [0.0])


def test_simulated_time_boundaries_are_roots_of_the_finite_size_curves():
    from rfdiff._finite.flow import gradient_flow, learning_curves
    from rfdiff._finite.instance import finite_size_instance

    problem = rfdiff.Problem(16, 2, 0.1)
    sim = rfdiff.tools.simulated_time_boundaries(problem, [2.0], d=30, seed=3)
    th = PhaseThresholds()
    flow = gradient_flow(finite_size_instance(problem, 30, seed=3))
    tm, tg = sim["tau_mem"][0], sim["tau_gen"][0]
    c = learning_curves(flow, np.array([tm * (1 - 2e-6), tm * (1 + 2e-6), np.inf]))
    level = max(th.mem_fraction * c.gen_loss[2], th.mem_threshold)
    assert c.gen_loss[0] < level <= c.gen_loss[1]
    ref = learning_curves(flow, rfdiff._phase.maps._reference_grid(problem))
    smin = ref.score_error.min()
    c = learning_curves(flow, np.array([tg * (1 - 2e-6), tg * (1 + 2e-6)]))
    assert c.score_error[0] > th.gen_factor * smin >= c.score_error[1]
    # the same boundaries as the theory up to the finite-size correction (d = 30: ~10 %)
    theory = time_boundaries(problem, [2.0])
    assert abs(tg / theory["tau_gen"][0] - 1) < 0.1
    assert abs(tm / theory["tau_mem"][0] - 1) < 0.3


def test_simulated_size_boundary_brackets_and_errors():
    problem = rfdiff.Problem(1, 1, 0.1)
    sim = rfdiff.tools.simulated_size_boundary(problem, [16.0], 1e3, (1.0, 5.0), d=20, seed=0,
                                         rel_resolution=0.1)
    lo, hi = sim["psi_n_lo"][0], sim["psi_n_hi"][0]
    assert lo < hi and (hi / lo - 1 <= 0.1 or round((hi - lo) * 20) == 1)
    assert lo < sim["psi_n_star"][0] < hi and sim["probes"][0] >= 3
    # a bracket that does not straddle the boundary gives nan, not a wrong answer
    nob = rfdiff.tools.simulated_size_boundary(problem, [16.0], 1e3, (10.0, 20.0), d=20)
    assert np.isnan(nob["psi_n_star"][0])
    with pytest.raises(ValueError, match="psi_n_bracket"):
        rfdiff.tools.simulated_size_boundary(problem, [16.0], 1e3, (2.0, 1.0), d=20)


def test_boundary_points_straddle_the_boundaries(time_map):
    pts = rfdiff.tools.boundary_points(time_map, factor=2.0)
    b = time_map.boundaries
    for x, tau in pts:
        j = int(np.argmin(abs(time_map.psi_n - x)))
        ratios = [tau / b["boundary_tau_gen"][j], tau / b["boundary_tau_mem"][j]]
        assert any(abs(np.log(r) / np.log(2.0)) == pytest.approx(1.0) for r in ratios)
    assert len(rfdiff.tools.boundary_points(time_map, 2.0, max_points=5)) == 5
    with pytest.raises(ValueError, match="factor must be > 1"):
        rfdiff.tools.boundary_points(time_map, 0.5)


@pytest.mark.slow  # > 10 s on 2 cores; run with -m slow
def test_progress_reports_every_stage(capsys):
    problem = rfdiff.Problem(16, 4, 0.1)
    phase_map_size(problem, np.array([1.0, 8.0]), np.array([16.0]), 1e3, progress=True)
    err = capsys.readouterr().err
    assert "phase map: 2/2" in err and "reference curves (tau_gen): 2/2" in err
    assert "boundary curves" in err
