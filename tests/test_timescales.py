import numpy as np
import pytest

import rfdiff
from rfdiff._timescales.curve import curve_timescales
from rfdiff._timescales.scaling import fit_power_law, scaling_report
from rfdiff._timescales.timescales import spectral_timescales, timescales


def test_curve_timescales_on_known_curves():
    # E_score = 0.1 + (log τ − log 10)² has its minimum at τ = 10 and reaches 2×min at
    # log τ = log 10 ± √0.1; L_gen = 2 τ/(τ + 1000) reaches half of L_gen(∞) = 2 at τ = 1000
    tau = np.logspace(-1, 6, 701)
    score = 0.1 + (np.log(tau) - np.log(10.0)) ** 2
    gen = 2 * tau / (tau + 1000.0)
    curves = {"tau": np.append(tau, np.inf), "score_error": np.append(score, np.inf),
              "gen_loss": np.append(gen, 2.0)}
    ct = curve_timescales(curves, gen_factor=2.0, gen_threshold=1.0, mem_factor=2.0)
    assert ct.tau_gen == pytest.approx(10.0, rel=1e-6)  # exact parabola in log τ
    # crossings are interpolated linearly in log τ (spacing h = 0.023): for the parabola
    # the error in log τ is at most h²/8 · |E''|/|E'| = 2e-4 at the crossing
    assert ct.tau_gen_reached == pytest.approx(10 * np.exp(-np.sqrt(0.1)), rel=3e-4)
    assert ct.tau_mem_score == pytest.approx(10 * np.exp(np.sqrt(0.1)), rel=3e-4)
    assert ct.tau_mem == pytest.approx(1000.0, rel=1e-4)
    assert ct.tau_mem_threshold == pytest.approx(1000.0, rel=1e-4)
    assert ct.gen_loss_final == 2.0
    with pytest.raises(ValueError, match="mem_fraction must be < 1"):
        curve_timescales(curves, mem_fraction=1.5)


def test_fit_power_law():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    a, err = fit_power_law(x, 3 * x**1.5)
    assert a == pytest.approx(1.5, abs=1e-12) and err < 1e-10
    with pytest.raises(ValueError, match="at least two"):
        fit_power_law([1.0], [2.0])


@pytest.fixture(scope="module")
def fig5():
    # the paper's Fig. 5 setting: ψp = 64, ψn ∈ {4, 8, 16, 32}, t = 0.1, tanh
    return scaling_report(64.0, (4.0, 8.0, 16.0, 32.0), 0.1)


def test_fig5_spectral_tau_mem_grows_linearly(fig5):
    # the paper's τ_mem = ψp/(Δ λ_min(ρ1)) grows ~ linearly in ψn (measured exponent 1.10;
    # leading order ψn/(Δ v²) is exactly linear; corrections grow as ψn approaches ψp)
    alpha, err = fig5.exponents["tau_mem"]["spectral"]
    assert 0.95 < alpha < 1.25, (alpha, err)
    # onset (right edge of ρ1) before completion (left edge)
    assert np.all(fig5.tau_mem["onset"] < fig5.tau_mem["spectral"])


def test_fig5_tau_gen_grows_far_slower_than_tau_mem(fig5):
    # τ_gen (argmin of E_score) drifts with ψn (13.5 → 22.6, exponent ≈ 0.25) while τ_mem
    # grows ~linearly: the generalisation window widens with n
    a_gen, _ = fig5.exponents["tau_gen"]["curve"]
    a_mem, _ = fig5.exponents["tau_mem"]["spectral"]
    assert a_gen < 0.35 and a_mem > 3 * a_gen
    assert np.all(fig5.tau_mem["curve"] > 50 * fig5.tau_gen["curve"])


def test_curve_tau_mem_linear_when_psi_p_much_larger():
    # ψp = 1024 ≫ ψn: τ_mem from the curves (L_gen at half its final value) ∝ ψn^1.00
    rep = scaling_report(1024.0, (4.0, 8.0, 16.0), 0.1, tau=np.append(np.logspace(0, 6, 61),
                                                                       np.inf))
    alpha, err = rep.exponents["tau_mem"]["curve"]
    assert abs(alpha - 1.0) < 0.1, (alpha, err)
    # the collapse: L_gen against τ/τ_mem coincides at τ = τ_mem by construction, and the
    # curves agree within 20 % over a decade around it
    x = rep.collapse("curve")
    fin = np.isfinite(rep.tau)
    probe = np.logspace(-0.5, 0.5, 5)
    vals = [np.interp(np.log(probe), np.log(xx[fin]), g[fin] / g[-1])
            for xx, g in zip(x, rep.gen_loss)]
    assert np.max(np.abs(np.array(vals) / vals[0] - 1)) < 0.2


def test_spectral_parts_and_d_component_share():
    problem = rfdiff.Problem(64, 8, 0.1)
    parts, tau_gen, tau_mem, notes = spectral_timescales(problem)
    roles = [p["role"] for p in parts]
    assert roles == ["s2_atom", "d_component", "memorisation", "generalisation"]
    shares = {p["role"]: p["train_drop_share"] for p in parts}
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-6)
    # the d-component carries most of the τ = ∞ train-loss drop here (THEORY.md §5)
    assert shares["d_component"] > 0.5
    mem = parts[2]
    assert tau_mem["spectral"] == pytest.approx(64 / (problem.delta * mem["lo"]), rel=1e-12)
    assert tau_gen["spectral"] < tau_mem["onset"] < tau_mem["spectral"]


def test_timescales_result_and_errors():
    ts = timescales(rfdiff.Problem(16, 4, 0.1), np.logspace(-1, 6, 71))
    assert set(ts.tau_gen) == {"spectral", "curve"}
    assert set(ts.tau_mem) == {"spectral", "onset", "curve"}
    assert ts.tau_gen["curve"] < ts.tau_mem["curve"]
    assert "psi_p/(Delta_t lambda)" in ts.definitions
    with pytest.raises(ValueError, match="problem must be"):
        spectral_timescales("nope")
