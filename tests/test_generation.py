import json
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rfdiff
from rfdiff._generation.study import (degradation_time, describe_study, generation_curve,
                                memorisation_study, onset_time, study_from_dict)
from rfdiff._generation.score_field import (diffusion_times, feature_score, field_weights,
                                           score_field)
from rfdiff.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
TIMES = diffusion_times(1e-3, 3.0, 6)


@pytest.fixture(scope="module")
def small_field():
    return score_field(rfdiff.Problem(8, 1, 1.0, "tanh", rfdiff.tools.two_atom()), 8, TIMES,
                       seed=3)


def test_one_draw_serves_every_diffusion_time(small_field):
    f = small_field
    with jax.enable_x64(True):  # draw() is a jit-able core: float64 is the caller's choice
        W, X, lam = rfdiff.tools.draw(rfdiff.Problem(8, 1, 0.5, "tanh", rfdiff.tools.two_atom()), 8,
                                seed=3)
    np.testing.assert_array_equal(f.W, W)
    np.testing.assert_array_equal(f.X, X)
    np.testing.assert_array_equal(f.sigma_eigs, lam)
    assert f.Q.shape == (6, f.p, f.p) and f.B.shape == (6, 8, f.p)


def test_field_weights_are_the_flow_weights_of_each_time(small_field):
    # the field stores the flow of each t_k; its weights must be rfdiff.tools.weights_at of an
    # independently built flow at that time (same arithmetic up to round-off)
    tau = [0.0, 3.0, 1e3, np.inf]
    M = field_weights(small_field, tau)
    assert M.shape == (4, 6, 8, small_field.p)
    for k in (0, 3, 5):
        pr = rfdiff.Problem(8, 1, float(TIMES[k]), "tanh", rfdiff.tools.two_atom())
        ref = rfdiff.tools.weights_at(rfdiff.gradient_flow(rfdiff.finite_size_instance(pr, 8,
                                                                                 seed=3)), tau)
        np.testing.assert_allclose(M[:, k], ref, rtol=0, atol=1e-10 * np.abs(ref).max())


def test_stored_losses_are_the_learning_curves(small_field):
    pr = rfdiff.Problem(8, 1, float(TIMES[2]), "tanh", rfdiff.tools.two_atom())
    c = rfdiff.learning_curves(rfdiff.gradient_flow(rfdiff.finite_size_instance(pr, 8, seed=3)),
                               small_field.loss_tau)
    np.testing.assert_allclose(small_field.score_error[2], c.score_error, rtol=1e-10)
    k = np.argmin(c.score_error)
    assert small_field.best_tau[2] == small_field.loss_tau[k]


def test_feature_score_is_exact_at_grid_times_and_log_linear_between(small_field):
    f = small_field
    tau = 50.0
    s = feature_score(f, tau)
    M = field_weights(f, tau)[0]
    x = np.random.default_rng(0).standard_normal((5, 8))
    feats = np.tanh(x @ (f.W / np.sqrt(8)).T)
    with jax.enable_x64(True):
        for k in (0, 2, 5):
            got = np.asarray(s(jnp.asarray(x), float(TIMES[k])))
            np.testing.assert_allclose(got, feats @ M[k].T, rtol=1e-12)
        # halfway in log t between t_1 and t_2: √Δ s is the mean of the two ends
        tm = float(np.sqrt(TIMES[1] * TIMES[2]))
        got = np.asarray(s(jnp.asarray(x), tm)) * np.sqrt(-np.expm1(-2 * tm))
        ends = [np.sqrt(-np.expm1(-2 * TIMES[k])) * feats @ M[k].T for k in (1, 2)]
        np.testing.assert_allclose(got, 0.5 * (ends[0] + ends[1]), rtol=1e-12)
        # outside the grid the weights are held at the end values
        below = np.asarray(s.weights(1e-4))
        np.testing.assert_allclose(below, s.H[0], rtol=0, atol=0)


def test_linear_features_learn_the_gaussian_score_of_the_training_set():
    # σ linear, p ≥ d: the τ = ∞ (pseudo-inverse) solution is s(x, t) = −C_t⁻¹x with
    # C_t = e^{−2t} Σ̂ + Δ_t I, Σ̂ = XXᵀ/n, at every grid time: the exact DSM minimiser among
    # linear scores. Relative agreement to 1e-7 (U has p − d round-off null modes).
    times = diffusion_times(1e-3, 3.0, 4)
    f = score_field(rfdiff.Problem(2, 4, 1.0, "linear", rfdiff.tools.two_atom()), 6, times, seed=1)
    s = feature_score(f, np.inf)
    x = np.random.default_rng(2).standard_normal((4, 6))
    sig_hat = f.X @ f.X.T / f.n
    with jax.enable_x64(True):
        for t in times:
            C = np.exp(-2 * t) * sig_hat + (1 - np.exp(-2 * t)) * np.eye(6)
            ref = -np.linalg.solve(C, x.T).T
            got = np.asarray(s(jnp.asarray(x), float(t)))
            assert np.max(np.abs(got - ref)) < 1e-7 * np.max(np.abs(ref))


def test_bad_field_inputs_are_rejected():
    pr = rfdiff.Problem(4, 1, 1.0)
    with pytest.raises(ValueError, match="times must be a 1-D strictly increasing"):
        score_field(pr, 4, [0.1, 0.05])
    with pytest.raises(ValueError, match="count must be >= 2"):
        diffusion_times(count=1)
    with pytest.raises(ValueError, match="method must be one of"):
        score_field(pr, 4, [0.1, 0.2], method="nope")


def test_onset_time_interpolates_in_log_tau():
    tau = np.array([1.0, 10.0, 100.0, np.inf])
    assert onset_time(tau, [0.0, 0.0, 0.2, 0.3], 0.1) == pytest.approx(10 ** 1.5)
    assert onset_time(tau, [0.0, 0.0, 0.05, 0.9], 0.1) == np.inf  # τ = ∞ is not a crossing
    assert onset_time(tau, [0.5, 0.6, 0.7, 0.8], 0.1) == 1.0
    with pytest.raises(ValueError, match="level must be in"):
        onset_time(tau, [0, 0, 0, 0], 1.5)


def test_degradation_time_is_the_half_way_rise_in_log():
    tau = np.array([1.0, 10.0, 100.0, 1000.0, np.inf])
    # best value 1 at τ = 10, final 100: half-way in log is 10, crossed between
    # 100 (value 4) and 1000 (value 40), at log-fraction log(10/4)/log(10)
    got = degradation_time(tau, [2.0, 1.0, 4.0, 40.0, 100.0])
    assert got == pytest.approx(100 * 10 ** (np.log10(2.5)), rel=1e-12)
    assert np.isnan(degradation_time(tau, [5.0, 4.0, 3.0, 2.0, 1.0]))  # never degrades
    assert degradation_time(tau, [2.0, 1.0, 1.1, 1.2, 100.0]) == np.inf  # only at τ = ∞


@pytest.fixture(scope="module")
def small_study():
    # a small but complete study: d = 8, p = 64, n = 4 and 8, 6 diffusion times
    return memorisation_study(rfdiff.Problem(8, 1, 1.0), 8, [0.5, 1.0], [10.0, 1e3, np.inf],
                              times=TIMES, seed=0, n_samples=200, steps=60, bootstrap=200,
                              projections=32)


def test_small_study_references_and_shapes(small_study):
    for c in small_study.curves:
        assert c.p == 64 and c.tau.shape == (3,)
        assert all(c.metrics[k].shape == (3,) for k in c.metrics)
        # the empirical score memorises; exact samples do not; f_mem is a fraction
        assert c.references["empirical"]["f_mem"] >= 0.95
        assert c.references["data"]["f_mem"] <= 0.05
        assert np.all((c.metrics["f_mem"] >= 0) & (c.metrics["f_mem"] <= 1))
        assert c.settings["sampler_covariance_error"] < 0.1
    assert [c.n for c in small_study.curves] == [4, 8]
    assert len(small_study.table()) == 6


def test_small_study_is_reproducible(small_study):
    again = memorisation_study(rfdiff.Problem(8, 1, 1.0), 8, [0.5], [10.0, 1e3, np.inf],
                               times=TIMES, seed=0, n_samples=200, steps=60, bootstrap=200,
                               projections=32)
    for k, v in again.curves[0].metrics.items():
        np.testing.assert_array_equal(v, small_study.curves[0].metrics[k])


def test_study_round_trips_through_json(small_study):
    back = study_from_dict(json.loads(json.dumps(small_study.as_dict())))
    assert describe_study(back) == describe_study(small_study)
    assert back.curves[1].theory_tau_mem == small_study.curves[1].theory_tau_mem
    with pytest.raises(ValueError, match="missing key"):
        study_from_dict({"curves": []})


def test_generation_curve_rejects_bad_input(small_field):
    with pytest.raises(ValueError, match="tau must be a 1-D increasing array"):
        generation_curve(small_field, [-1.0])
    with pytest.raises(ValueError, match="tau must be a 1-D increasing array"):
        generation_curve(small_field, [10.0, 1.0])
    with pytest.raises(ValueError, match="field must be a rfdiff.ScoreField"):
        generation_curve(object())


@pytest.mark.slow  # > 10 s on 2 cores; run with -m slow
def test_cli_generate_json_and_plot(tmp_path, capsys):
    plot = tmp_path / "g.png"
    code = main(["generate", "--d", "6", "--psi-p", "4", "--psi-n", "1", "--times", "4",
                 "--t-min", "0.01", "--t-max", "2", "--points", "2", "--tau-min", "10",
                 "--tau-max", "1000", "--samples", "100", "--steps", "40", "--bootstrap",
                 "50", "--json", "--plot", str(plot)])
    out = capsys.readouterr().out
    data = json.loads(out)
    assert code == 0 and plot.stat().st_size > 1000
    for key in ("tau", "f_mem", "f_mem_err", "gaussian_kl", "sliced_w2", "nn_train",
                "nn_test", "references", "best_tau", "onset", "settings", "parameters"):
        assert key in data
    assert data["tau"][-1] == "inf" and len(data["f_mem"]) == 3
    assert data["parameters"]["p"] == 24 and data["parameters"]["n"] == 6


def test_cli_generate_rejects_bad_flags(capsys):
    assert main(["generate", "--d", "6", "--times", "1"]) == 2
    assert "count must be >= 2" in capsys.readouterr().err


@pytest.mark.slow  # > 10 s on 2 cores; run with -m slow
def test_example_small_mode_runs(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "examples" / "memorisation_in_samples.py"),
                          "--small", "--out", str(tmp_path)], capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr
    data = json.loads((tmp_path / "memorisation_in_samples.json").read_text())
    assert len(data["curves"]) == 2
    assert (tmp_path / "memorisation_in_samples.png").stat().st_size > 1000
