"""Validation by extrapolation: the fit, the record, the API's checks and the CLI."""

import json

import numpy as np
import pytest

import rfdiff
from rfdiff.cli.main import main
from rfdiff.tools import extrapolate

TINY = dict(d=(8, 12), seeds=2, tau=[0.5, 50.0])


@pytest.fixture(scope="module")
def tiny():
    """A ladder small enough for the default run: p = 16, 24, 2 seeds, 2 τ (+ ∞)."""
    return rfdiff.validate(rfdiff.Problem(2, 1, 0.1, "tanh"), **TINY)


def test_fit_recovers_a_plus_b_over_d_exactly():
    d = np.array([50.0, 100.0, 200.0, 400.0])
    a, b = np.array([0.3, -1.2, 7.0]), np.array([2.0, 0.5, -30.0])
    y = a[None, :] + b[None, :] / d[:, None]
    for sigma in (None, np.full_like(y, 1e-3)):
        fit = extrapolate(d, y, sigma)
        # exact data: only rounding separates the fit from (a, b)
        np.testing.assert_allclose(fit.value, a, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(fit.coefficients[:, 1], b, rtol=1e-9)
        assert np.all(fit.order == 1)  # c = 0 to rounding: not significant


def test_fit_keeps_the_quadratic_term_only_when_supported():
    d = np.array([25.0, 50.0, 100.0, 200.0, 400.0])
    y = 1.0 + 3.0 / d + 400.0 / d**2
    sigma = np.full_like(y, 1e-6)
    fit = extrapolate(d, y, sigma)
    assert fit.order[0] == 2 and fit.value[0] == pytest.approx(1.0, rel=1e-10)
    # three sizes: no residual freedom for c, so a + b/d is kept and misses a
    three = extrapolate(d[2:], y[2:], sigma[2:])
    assert three.order[0] == 1 and abs(three.value[0] - 1.0) > 1e-3
    # the misfit inflates the error bar (Birge ratio) instead of hiding it
    assert three.uncertainty[0] > 10 * 1e-6
    assert extrapolate(d, y, sigma, max_order=1).order[0] == 1


def test_fit_uncertainty_matches_the_noise():
    rng = np.random.default_rng(3)
    d = np.array([50.0, 100.0, 200.0])
    pulls = []
    for _ in range(400):
        y = 0.5 + 2.0 / d + rng.normal(0.0, 1e-3, d.size)
        fit = extrapolate(d, y, np.full(d.size, 1e-3), max_order=1)
        pulls.append((fit.value[0] - 0.5) / fit.uncertainty[0])
    # the Birge scaling only widens errors: pulls must not be wider than N(0, 1)
    # (400 draws: the standard deviation of the pulls is known to about ±4 %)
    assert 0.5 < np.std(pulls) < 1.1


@pytest.mark.parametrize("args,msg", [
    (dict(d=[50]), "d must hold at least two"),
    (dict(d=[50, 50]), "d must hold at least two"),
    (dict(d=[0, 10]), "d must be"),
    (dict(d=[10.5, 20]), "d must be"),
    (dict(seeds=0), "seeds must be"),
    (dict(tau=[1.0, -1.0]), "tau must be"),
    (dict(method="nope"), "method must be one of"),
    (dict(executor="pool"), "executor must be None"),
    (dict(max_order=3), "max_order must be 1 or 2"),
    (dict(seed=1.5), "seed must be an integer"),
])
def test_bad_inputs_refused_before_any_compute(args, msg, monkeypatch):
    from rfdiff._validation import ladder

    def forbidden(*a, **k):
        raise AssertionError("computed before refusing")

    monkeypatch.setattr(ladder, "_rung", forbidden)
    monkeypatch.setattr(ladder, "asymptotic_curves", forbidden)
    with pytest.raises(ValueError, match=msg):
        rfdiff.validate(rfdiff.Problem(2, 1, 0.1), **{**TINY, **args})
    with pytest.raises(ValueError, match="problem must be"):
        rfdiff.validate("tanh", **TINY)


def test_fit_refuses_bad_input():
    with pytest.raises(ValueError, match="d must be"):
        extrapolate([10, 10], [1.0, 2.0])
    with pytest.raises(ValueError, match="y must have one row"):
        extrapolate([10, 20], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="sigma must be"):
        extrapolate([10, 20], [1.0, 2.0], [-1.0, 1.0])


def test_tiny_ladder_shapes_and_json(tiny):
    v = tiny
    assert v.d == (8, 12) and v.seeds == (0, 1)
    assert np.isinf(v.tau[-1]) and v.tau.size == 3
    for name in ("train_loss", "test_loss", "score_error"):
        assert v.finite[name].shape == (2, 2, 3)
        assert v.fits[name].value.shape == (3,)
        assert np.all(np.isfinite(v.theory[name]))
        # two sizes: a + b/d goes through both seed means
        a, b, _ = v.fits[name].coefficients.T
        mean = v.finite_mean(name)
        np.testing.assert_allclose(a + b / np.array(v.d)[:, None], mean, rtol=1e-10)
    assert v.w1.shape == (2, 2) and np.all(v.w1 > 0)
    out = json.loads(json.dumps(v.as_dict(), allow_nan=True))
    for key in ("tau", "d", "seeds", "train_loss", "test_loss", "score_error", "spectrum"):
        assert key in out
    assert out["seeds"] == 2 and out["d"] == [8, 12]
    for name in ("train_loss", "test_loss", "score_error"):
        block = out[name]
        for key in ("theory", "extrapolated", "uncertainty"):
            assert len(block[key]) == 3
        assert len(block["finite"]) == 2 and all(len(r) == 3 for r in block["finite"])
    assert len(out["spectrum"]["w1"]) == 2 and "extrapolated" in out["spectrum"]
    names = [e["name"] for e in out["timescales"]]
    assert names[:2] == ["tau_gen_curve", "tau_mem_curve"]
    for e in v.timescales:
        assert e["finite"].shape == (2,) and e["theory"] > 0
        if np.isfinite(e["extrapolated"]):
            # two sizes (curves: in 1/d; spectral: in d^(-2/3)): the line through both means
            x = np.array(v.d, float) ** (1.0 if e["name"].endswith("curve") else 2 / 3)
            slope = (e["finite"][1] - e["finite"][0]) / (1 / x[1] - 1 / x[0])
            assert e["extrapolated"] == pytest.approx(e["finite"][0] - slope / x[0],
                                                      rel=1e-9)


def test_timescales_of_the_ladder_are_those_of_its_runs(tiny):
    """The curve timescales of one run are curve_timescales of its curves on the fine grid."""
    from rfdiff._validation.ladder import TIMESCALE_TAU

    pr = rfdiff.Problem(2, 1, 0.1, "tanh")
    means = []
    for s in (0, 1):
        flow = rfdiff.gradient_flow(rfdiff.finite_size_instance(pr, 12, seed=s))
        c = rfdiff.learning_curves(flow, np.append(TIMESCALE_TAU, np.inf))
        means.append(rfdiff.curve_timescales(c).tau_gen)
    row = next(e for e in tiny.timescales if e["name"] == "tau_gen_curve")
    assert row["finite"][1] == pytest.approx(np.mean(means), rel=1e-12)
    th = rfdiff.curve_timescales(rfdiff.asymptotic_curves(pr, np.append(TIMESCALE_TAU,
                                                                          np.inf)))
    assert row["theory"] == pytest.approx(th.tau_gen, rel=1e-12)


def test_same_draws_as_the_finite_size_route(tiny):
    """The ladder's runs are the public finite-size route with the stated seeds."""
    pr = rfdiff.Problem(2, 1, 0.1, "tanh")
    c = rfdiff.learning_curves(rfdiff.gradient_flow(rfdiff.finite_size_instance(pr, 12, seed=1)),
                               tiny.tau)
    np.testing.assert_array_equal(tiny.finite["test_loss"][1, 1], c.test_loss)


def test_plot_validation_draws(tiny):
    pytest.importorskip("matplotlib")
    from rfdiff.plot import new_figure, plot_validation

    fig, axes = new_figure(1, 2)
    plot_validation(axes[0, 0], tiny, "test_loss")
    plot_validation(axes[0, 1], tiny, "w1")
    assert axes[0, 0].lines and axes[0, 1].lines
    with pytest.raises(ValueError, match="quantity must be one of"):
        plot_validation(axes[0, 0], tiny, "gen")


@pytest.mark.parametrize("argv,msg", [
    (["validate", "--d", "50,abc"], "d must be a positive integer, got 'abc'"),
    (["validate", "--d", "50"], "d must hold at least two distinct sizes"),
    (["validate", "--seeds", "0"], "seeds must be a positive integer"),
    (["validate", "--points", "0"], "points must be"),
])
def test_cli_errors_exit_2_with_one_line(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and len(err.strip().splitlines()) == 1


def test_cli_json_and_progress(capsys):
    code = main(["validate", "--psi-p", "2", "--psi-n", "1", "--d", "8,12", "--seeds",
                 "2", "--points", "2", "--tau-min", "0.5", "--tau-max", "50", "--json"])
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert code == 0 and data["d"] == [8, 12] and data["tau"][-1] == "inf"
    assert data["test_loss"]["finite"] and data["parameters"]["method"] == "exact"
    assert out.err.count("rfdiff validate: run ") == 4  # one progress line per run


@pytest.mark.slow
def test_extrapolation_agrees_with_the_theory():
    """ψ_p = 16, ψ_n = 4, t = 0.1, tanh over d = 50, 100, 200 (2 seeds; ~7 min on 2 cores).

    Raw, the finite-size losses differ from the theory by up to 4 % (train) and 7 % (test)
    at d = 50, 2 % at d = 200. Extrapolated by a + b/d the measured deviation is ≤ 0.25 %
    with fit uncertainties of ≤ 0.25 % (2 seeds), so each τ must agree to 0.3 % or three
    uncertainties. W₁ decays more slowly than 1/d (0.0107, 0.0057, 0.0035): its
    extrapolation is required to lie well below the d = 200 value, not at 0."""
    tau = np.logspace(-1, 5, 8)
    v = rfdiff.validate(rfdiff.Problem(16, 4, 0.1, "tanh"), d=(50, 100, 200), seeds=2,
                        tau=tau)
    for name in ("train_loss", "test_loss"):
        dev, unc = v.relative_deviation(name)
        assert np.all(np.abs(dev) <= np.maximum(3e-3, 3 * unc)), (name, dev, unc)
        raw = np.abs(v.finite_mean(name)[0] - v.theory[name]) / np.abs(v.theory[name])
        assert np.max(np.abs(dev)) < 0.2 * np.max(raw)
    assert 0 <= v.w1_fit.value[0] < 0.5 * v.w1.mean(axis=1)[-1]
    # the timescales: extrapolated within 3 % or three uncertainties of the theory
    for e in v.timescales:
        assert abs(e["extrapolated"] - e["theory"]) <= max(0.03 * e["theory"],
                                                           3 * e["uncertainty"]), e


def test_cli_cache_switch(monkeypatch, tmp_path, capsys):
    """The cache is set up only by the process entry point, in the per-user folder, and
    RFDIFF_NO_CACHE=1 or --no-cache turn it off (JAX's config is recorded, not changed)."""
    import importlib

    import jax

    cli = importlib.import_module("rfdiff.cli.main")

    calls = []
    monkeypatch.setattr(jax.config, "update", lambda k, v: calls.append((k, v)))
    monkeypatch.setenv("RFDIFF_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RFDIFF_NO_CACHE", raising=False)
    cli._persistent_compilation_cache(["curves"])
    assert ("jax_compilation_cache_dir", str(tmp_path)) in calls
    calls.clear()
    cli._persistent_compilation_cache(["--no-cache", "curves"])
    monkeypatch.setenv("RFDIFF_NO_CACHE", "1")
    cli._persistent_compilation_cache(["curves"])
    assert calls == []
    assert main(["--no-cache", "coefficients", "--json"]) == 0  # the flag parses
    capsys.readouterr()
