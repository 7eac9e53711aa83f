"""Real data: instances from given arrays, data spectra from data, the bundled digits, the CLI."""

import json
import sys

import numpy as np
import pytest

import rfdiff
from conftest import loglog_slope
from rfdiff.cli.main import main

MATRICES = ("W", "X", "U", "V", "U_pop", "V_pop", "S")


def _small():
    return rfdiff.Problem(2, 1.5, 0.1, "tanh", rfdiff.tools.two_atom())


# ------------------------------------------------------------------ given arrays


@pytest.mark.parametrize("method", ["exact", "monte_carlo", "gaussian_equivalent"])
def test_given_arrays_reproduce_the_seeded_instance_bit_for_bit(method):
    # the arrays that the seed draws, passed back in (X as rows), must give the same
    # floating-point numbers in every matrix: same values, same products
    problem, d, seed = _small(), 8, 4
    W, X, _ = rfdiff.tools.draw(problem, d, seed=seed)
    ref = rfdiff.finite_size_instance(problem, d, seed=seed, method=method, noise_draws=5)
    for kw in ({"X": X.T, "W": W}, {"X": X.T}, {"W": W}):
        inst = rfdiff.finite_size_instance(problem, None, seed=seed, method=method,
                                           noise_draws=5, **kw)
        for name in MATRICES:
            assert np.array_equal(getattr(inst, name), getattr(ref, name)), (method, kw.keys(),
                                                                           name)
        assert inst.score_trace == ref.score_trace
        assert {k: inst.info[k] for k in ref.info} == ref.info
        assert inst.info["population"] == "gaussian" and inst.d == d


def _held_out_errors(replicates, sizes, seed=5):
    problem, d = rfdiff.Problem(2, 1, 0.1, "tanh", rfdiff.tools.two_atom()), 6
    W, X, lam = rfdiff.tools.draw(problem, d, seed=2)
    exact = rfdiff.finite_size_instance(problem, d, seed=2)
    rng = np.random.default_rng(seed)
    errs = {k: [] for k in ("U_pop", "V_pop", "S")}
    reported = []
    for N in sizes:
        sq = {k: 0.0 for k in errs}
        rep = 0.0
        for _ in range(replicates):
            Xt = rng.standard_normal((N, d)) * np.sqrt(lam)
            inst = rfdiff.finite_size_instance(problem, d, seed=2, X=X.T, W=W, X_test=Xt)
            for k in errs:
                sq[k] += np.linalg.norm(getattr(inst, k) - getattr(exact, k)) ** 2
            rep += inst.info["population_error"]["U_pop"] ** 2
        for k in errs:
            errs[k].append(np.sqrt(sq[k] / replicates) / np.linalg.norm(getattr(exact, k)))
        reported.append(np.sqrt(rep / replicates))
    return errs, reported


def _check_rate(errs, reported, tol):
    sizes = [50, 200, 800, 3200]
    for k, e in errs.items():
        slope, se = loglog_slope(sizes, e)
        assert abs(slope + 0.5) < tol, (k, slope, se, e)
    # the half-split estimate tracks the actual rms error within a factor 2 (it is itself
    # an estimate from one split: its relative spread is ~1/√(#entries) plus split noise)
    ratio = np.asarray(reported) / np.asarray(errs["U_pop"])
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio


def test_held_out_population_converges_at_the_monte_carlo_rate():
    # Gaussian data given as arrays: held-out Ũ, Ṽ, S → exact ones as N^{-1/2}. Two
    # replicates per size over two decades: the rms error of each point scatters by
    # ~1/√(2·#entries) ≈ 10 %, i.e. a slope uncertainty ≈ 0.05; tolerance 0.15.
    _check_rate(*_held_out_errors(2, [50, 200, 800, 3200]), tol=0.15)


@pytest.mark.slow
def test_held_out_population_rate_with_more_replicates():
    # as above with eight replicates per size: slope scatter ≈ 0.025, tolerance 0.08
    _check_rate(*_held_out_errors(8, [50, 200, 800, 3200], seed=11), tol=0.08)


# ------------------------------------------------------------------ held-out loss errors

ERROR_TAU = np.array([10.0, 100.0, np.inf])


def _loss_errors(replicates, seed, sizes=(50, 200, 800, 3200)):
    """rms over replicates and τ of the estimated and of the actual held-out deviations."""
    problem, d = rfdiff.Problem(2, 1, 0.1, "tanh", rfdiff.tools.two_atom()), 6
    W, X, lam = rfdiff.tools.draw(problem, d, seed=2)
    ref = rfdiff.learning_curves(rfdiff.gradient_flow(rfdiff.finite_size_instance(
        problem, d, seed=2)), ERROR_TAU)
    rng = np.random.default_rng(seed)
    keys = ("test_loss", "score_error")
    est, act = ({k: [] for k in keys} for _ in range(2))
    for N in sizes:
        e2, a2 = ({k: [] for k in keys} for _ in range(2))
        for _ in range(replicates):
            Xt = rng.standard_normal((N, d)) * np.sqrt(lam)
            flow = rfdiff.gradient_flow(rfdiff.finite_size_instance(problem, d, seed=2, X=X.T,
                                                                    W=W, X_test=Xt))
            curves = rfdiff.learning_curves(flow, ERROR_TAU)
            err = rfdiff.tools.held_out_error(flow, ERROR_TAU)
            for k in keys:
                e2[k].append(np.asarray(err.error(k)) ** 2)
                a2[k].append((getattr(curves, k) - getattr(ref, k)) ** 2)
        for k in keys:
            est[k].append(np.sqrt(np.mean(e2[k])))
            act[k].append(np.sqrt(np.mean(a2[k])))
    return np.asarray(sizes), {k: np.asarray(v) for k, v in est.items()}, \
        {k: np.asarray(v) for k, v in act.items()}


def _check_loss_errors(sizes, est, act, slope_tol, pooled, each):
    for k in est:
        slope, se = loglog_slope(sizes, est[k])
        assert abs(slope + 0.5) < slope_tol, (k, slope, se, est[k])
        # N·err² is the same at every N: pooling the sizes compares the two mean squares
        ratio = np.sqrt(np.sum(sizes * est[k] ** 2) / np.sum(sizes * act[k] ** 2))
        assert 1 / pooled < ratio < pooled, (k, ratio)
        per = est[k] / act[k]
        assert np.all((per > 1 / each) & (per < each)), (k, per)


def test_held_out_loss_error_shrinks_as_root_n_and_matches_the_actual_deviation():
    # Gaussian data given as arrays (d = 6, p = 12): the half-split error of L_test and
    # E_score against the actual deviation from the exact-population curves, 16 held-out
    # samples per N. Each rms pools 16 × 3 strongly correlated values (≈ 16 degrees of
    # freedom, ~18 % scatter of an rms): slope scatter ≈ 0.05 over 4 sizes (tolerance 0.12);
    # pooled over the sizes, the two rms agree within ~10 % (tolerance a factor 1.4); one
    # size alone, within a factor 2.5 (both sides scatter). Measured over 8 seeds: slopes
    # −0.43 … −0.55, pooled ratios 0.87 … 1.14, single sizes 0.55 … 1.76.
    _check_loss_errors(*_loss_errors(16, seed=100), slope_tol=0.12, pooled=1.4, each=2.5)


@pytest.mark.slow
def test_held_out_loss_error_with_more_samples():
    # as above with 64 held-out samples per N: rms scatter ≈ 9 %, slope scatter ≈ 0.025
    _check_loss_errors(*_loss_errors(64, seed=200), slope_tol=0.07, pooled=1.2, each=1.6)


@pytest.mark.parametrize("method", ["exact", "gaussian_equivalent"])
def test_held_out_error_is_the_scaled_difference_of_the_halves(method):
    # the estimator, term by term: instances on the first 20 and the last 21 held-out
    # points give L_a, L_b; the full sample is their weighted mean and its error
    # √(20·21)/41 |L_a − L_b| (to rounding: the Mehler tails are below 1e-10)
    problem, d = _small(), 8
    rng = np.random.default_rng(9)
    X, Xt = rng.uniform(-1.5, 1.5, (12, d)), rng.uniform(-1.5, 1.5, (41, d))
    tau = np.array([0.0, 1.0, 30.0, np.inf])

    def run(points):
        inst = rfdiff.finite_size_instance(problem, d, seed=1, method=method, X=X,
                                           X_test=points)
        flow = rfdiff.gradient_flow(inst)
        return rfdiff.learning_curves(flow, tau), flow

    (full, flow), (a, _), (b, _) = run(Xt), run(Xt[:20]), run(Xt[20:])
    err = rfdiff.tools.held_out_error(flow, tau)
    scale = np.sqrt(20 * 21) / 41
    np.testing.assert_allclose(full.test_loss, (20 * a.test_loss + 21 * b.test_loss) / 41,
                               rtol=0, atol=1e-9)
    for key in ("test_loss", "gen_loss", "score_error"):
        np.testing.assert_allclose(err.error(key),
                                   scale * np.abs(getattr(a, key) - getattr(b, key)),
                                   rtol=0, atol=1e-9, err_msg=key)
    assert err.test_loss_err[0] == 0.0 and err.held_out == 41  # M(0) = 0: L_test = 1 exactly
    assert set(err.as_dict()) == {"tau", "test_loss_err", "gen_loss_err", "score_error_err",
                                  "held_out"}


def test_held_out_error_needs_a_held_out_population():
    flow = rfdiff.gradient_flow(rfdiff.finite_size_instance(_small(), 8))
    with pytest.raises(ValueError, match="no held-out population"):
        rfdiff.tools.held_out_error(flow, [1.0])
    with pytest.raises(ValueError, match="flow must be a rfdiff.Flow"):
        rfdiff.tools.held_out_error("flow", [1.0])


def test_exact_construction_stays_exact_in_the_noise_for_non_gaussian_data():
    # binary (±1) data: the Mehler build is exact in the noise whatever the points, so the
    # Monte-Carlo matrices approach it as K^{-1/2} (three K over two decades; each point's
    # relative error has ~1/√(#entries) ≈ 4 % noise: tolerance 0.12 on the slope)
    problem, d = rfdiff.Problem(2, 2, 0.1, "tanh"), 8
    X = np.random.default_rng(0).choice([-1.0, 1.0], size=(16, d))
    exact = rfdiff.finite_size_instance(problem, d, seed=1, X=X)
    Ks = [4, 40, 400]
    errs = [np.linalg.norm(rfdiff.finite_size_instance(problem, d, seed=1, X=X,
                                                       method="monte_carlo",
                                                       noise_draws=K).U - exact.U)
            / np.linalg.norm(exact.U) for K in Ks]
    slope, se = loglog_slope(Ks, errs)
    assert abs(slope + 0.5) < 0.12, (slope, se, errs)


def test_held_out_instance_runs_downstream_with_labelled_score():
    problem, d = _small(), 8
    rng = np.random.default_rng(3)
    X, Xt = rng.uniform(-1.5, 1.5, (12, d)), rng.uniform(-1.5, 1.5, (40, d))
    for method in ("exact", "gaussian_equivalent"):
        inst = rfdiff.finite_size_instance(problem, d, method=method, X=X, X_test=Xt)
        assert inst.info["score_reference"] == "gaussian_surrogate"
        assert inst.info["held_out"] == 40 and inst.info["population"] == "held_out"
        assert inst.info["data_kappa"] == pytest.approx(np.mean(X**2), rel=1e-14)
        assert set(inst.info["population_error"]) == {"U_pop", "V_pop", "S"}
        curves = rfdiff.learning_curves(rfdiff.gradient_flow(inst), [1.0, 10.0, np.inf])
        assert np.all(np.isfinite(curves.test_loss)) and np.all(np.isfinite(curves.score_error))
        # the held-out test loss is a mean of squares: at τ = 0 (M = 0) it is exactly 1
        assert rfdiff.learning_curves(rfdiff.gradient_flow(inst), 0.0).test_loss[0] == 1.0


@pytest.mark.parametrize("kwargs,msg", [
    (dict(X=np.full((12, 8), np.nan)), "X must be finite"),
    (dict(X=np.ones(8)), "X must be a 2-D array"),
    (dict(X=np.zeros((12, 8), dtype=bool)), "X must be an array of real numbers"),
    (dict(X=np.ones((11, 8))), "X has n=11 rows but the problem gives n=12"),
    (dict(X=np.ones((12, 7))), "X has d=7 columns but d=8"),
    (dict(W=np.ones((15, 8))), "W has p=15 rows but the problem gives p=16"),
    (dict(W=np.zeros((16, 8))), "W has 16 zero rows"),
    (dict(X=np.ones((12, 8))), "X is constant"),
    (dict(X=np.eye(12, 8), X_test=np.eye(9, 8)), "X_test must have at least 10 rows"),
    (dict(X=np.eye(12, 8), X_test=np.ones((20, 8))), "X_test is constant"),
    (dict(X=np.eye(12, 8), X_test=np.ones((20, 5))), "X_test has d=5 columns but d=8"),
    (dict(X_test=np.eye(20, 8)), "X_test needs X"),
])
def test_bad_arrays_are_refused_naming_the_argument(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        rfdiff.finite_size_instance(_small(), 8, **kwargs)


def test_dimension_from_arrays_and_mismatch_with_d():
    with pytest.raises(ValueError, match="d=8 columns but d=9"):
        rfdiff.finite_size_instance(_small(), 9, X=np.eye(14, 8))
    with pytest.raises(ValueError, match="d must be a positive integer"):
        rfdiff.finite_size_instance(_small(), None)


# ------------------------------------------------------------------ data spectra


def test_from_eigenvalues_keeps_kappa_and_merges_zero_eigenvalues():
    ev = np.concatenate([np.zeros(3), -1e-14 * np.ones(2),
                         np.random.default_rng(0).exponential(size=59) ** 2])
    for K in (1, 4, 16, None):
        s = rfdiff.DataSpectrum.from_eigenvalues(ev, atoms=K)
        assert s.kappa == pytest.approx(np.mean(np.maximum(ev, 0)), rel=1e-13)
        assert len(s.atoms) <= (K or ev.size) and min(s.atoms) > 0
    full = rfdiff.DataSpectrum.from_eigenvalues(ev)
    assert len(full.atoms) == 59  # five zeros joined the smallest positive eigenvalue
    err = full.compression_error(ev, t=0.1)
    assert err["second_moment"] < 1e-12 and err["score_trace"] < 1e-10


def test_compression_error_falls_with_the_number_of_atoms():
    ev = np.random.default_rng(1).exponential(size=200) ** 2
    errs = [rfdiff.DataSpectrum.from_eigenvalues(ev, atoms=K).compression_error(ev, t=0.1)
            for K in (2, 8, 32, 200)]
    for key in ("second_moment", "wasserstein1", "score_trace"):
        vals = [e[key] for e in errs]
        assert all(a > b for a, b in zip(vals, vals[1:])), (key, vals)
    assert max(e["kappa"] for e in errs) < 1e-14


def test_from_covariance_and_from_data_agree_and_centre():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 10)) * np.linspace(0.5, 2.0, 10) + 3.0  # mean 3
    C = np.cov(X.T, bias=True)
    a = rfdiff.DataSpectrum.from_data(X, atoms=4)
    b = rfdiff.DataSpectrum.from_covariance(C, atoms=4)
    assert np.allclose(a.atoms, b.atoms, rtol=1e-10) and a.weights == b.weights
    # centring removes the mean: shifting the data changes nothing, unless centre=False
    assert np.allclose(rfdiff.DataSpectrum.from_data(X - 3.0, atoms=4).atoms, a.atoms,
                       rtol=1e-10)
    raw = rfdiff.DataSpectrum.from_data(X, atoms=4, center=False)
    assert raw.kappa == pytest.approx(np.mean(X**2), rel=1e-12)


@pytest.mark.parametrize("call,msg", [
    (lambda: rfdiff.DataSpectrum.from_eigenvalues([1.0, -0.5]), "ev must be >= 0"),
    (lambda: rfdiff.DataSpectrum.from_eigenvalues([0.0, 0.0]), "ev must have a positive"),
    (lambda: rfdiff.DataSpectrum.from_eigenvalues([1.0, np.nan]), "ev must be finite"),
    (lambda: rfdiff.DataSpectrum.from_eigenvalues([1.0, 2.0], atoms=0), "atoms must be a pos"),
    (lambda: rfdiff.DataSpectrum.from_covariance([[1.0, 0.5], [0.0, 1.0]]), "C must be symm"),
    (lambda: rfdiff.DataSpectrum.from_covariance(np.ones((2, 3))), "C must be a square"),
    (lambda: rfdiff.DataSpectrum.from_data(np.ones((5, 3))), "X is constant"),
    (lambda: rfdiff.DataSpectrum.from_data(np.ones((1, 3))), "X must be a 2-D array"),
])
def test_bad_spectrum_inputs(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


@pytest.mark.slow
def test_compression_error_in_the_theory_test_loss():
    # the documented measure: τ = ∞ test loss of the asymptotic theory with the compressed
    # spectrum against the uncompressed one (a heavy-tailed spectrum of 40 eigenvalues);
    # more atoms must approach it, and the cheap proxies order the same way
    ev = np.random.default_rng(4).exponential(size=40) ** 2
    ev = ev / ev.mean()
    loss = {}
    for K in (2, 8, None):
        s = rfdiff.DataSpectrum.from_eigenvalues(ev, atoms=K)
        loss[K] = float(rfdiff.asymptotic_curves(rfdiff.Problem(4, 2, 0.1, "tanh", s),
                                                 np.inf).test_loss[0])
    assert abs(loss[8] - loss[None]) < abs(loss[2] - loss[None]), loss


# ------------------------------------------------------------------ bundled digits


def test_digits_are_standardised():
    pytest.importorskip("sklearn")
    X = rfdiff.tools.digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert np.max(np.abs(X.mean(axis=0))) < 1e-12 and np.mean(X**2) == pytest.approx(1.0)
    raw = rfdiff.tools.digits(standardized=False)
    assert raw.min() == 0 and raw.max() == 16
    assert np.allclose(rfdiff.tools.standardize(raw), X, atol=1e-14)


def test_digits_without_scikit_learn_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import now fails
    with pytest.raises(ImportError, match=r"rfdiff\[data\]"):
        rfdiff.tools.digits()


# ------------------------------------------------------------------ CLI


def _npy(tmp_path, name, arr):
    path = tmp_path / name
    np.save(path, arr)
    return str(path)


def test_simulate_with_data_files(tmp_path, capsys):
    rng = np.random.default_rng(7)
    data = _npy(tmp_path, "x.npy", rng.uniform(-1, 1, (12, 6)))
    test = _npy(tmp_path, "xt.npy", rng.uniform(-1, 1, (30, 6)))
    feats = _npy(tmp_path, "w.npy", rng.standard_normal((18, 6)))
    code = main(["simulate", "--data", data, "--test-data", test, "--features", feats,
                 "--points", "4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in ("tau", "train_loss", "test_loss", "gen_loss", "score_error", "method",
                "test_loss_err", "gen_loss_err", "score_error_err"):
        assert len(out[key]) == 4 or key == "method"
    assert all(e >= 0 for e in out["test_loss_err"]) and max(out["score_error_err"]) > 0
    par = out["parameters"]
    assert (par["d"], par["n"], par["p"], par["held_out"]) == (6, 12, 18, 30)
    assert par["data"] == data and par["score_reference"] == "gaussian_surrogate"


@pytest.mark.parametrize("make,extra,msg", [
    (lambda p: str(p / "missing.npy"), [], "--data: no such file"),
    (lambda p: (p / "t.npy").write_text("not an array") and str(p / "t.npy"), [],
     "--data: cannot read"),
    (lambda p: _npy(p, "v.npy", np.ones(6)), [], "must hold a 2-D array"),
    (lambda p: _npy(p, "o.npy", np.array([[None, 1]], dtype=object)), [], "--data: cannot read"),
    (lambda p: _npy(p, "n.npy", np.full((12, 6), np.nan)), [], "X must be finite"),
    (lambda p: _npy(p, "x.npy", np.eye(12, 6)), ["--d", "7"], "d=6 columns but d=7"),
    (lambda p: _npy(p, "x.npy", np.eye(12, 6)), ["--psi-n", "4"], "X has n=12 rows"),
])
def test_simulate_bad_files_exit_2_with_one_line(tmp_path, capsys, make, extra, msg):
    code = main(["simulate", "--data", make(tmp_path), "--points", "2", *extra])
    err = capsys.readouterr().err
    assert code == 2 and msg in err and err.count("\n") == 1 and "Traceback" not in err


def test_simulate_test_data_needs_data(tmp_path, capsys):
    code = main(["simulate", "--test-data", _npy(tmp_path, "t.npy", np.eye(20, 6))])
    err = capsys.readouterr().err
    assert code == 2 and "--test-data needs --data" in err


# ------------------------------------------------------------------ comparison


def test_real_data_comparison_shares_w_and_uses_held_out_points():
    # non-Gaussian (uniform) data in d = 6: both runs of a draw share W (same seed), the
    # surrogate carries the data's spectrum, and the real run holds out N − n points
    X = rfdiff.tools.standardize(np.random.default_rng(8).uniform(size=(60, 6)))
    tau = np.logspace(-1, 3, 5)
    cmp = rfdiff.tools.real_data_comparison(rfdiff.Problem(2, 2, 0.1, "tanh"), X, tau,
                                            draws=2, seed=3)
    assert (cmp.d, cmp.p, cmp.n, cmp.held_out) == (6, 12, 12, 48)
    assert cmp.problem.spectrum == rfdiff.DataSpectrum.from_data(X)
    assert cmp.real_eigs.shape == cmp.surrogate_eigs.shape == (2, 12)
    assert len(cmp.real) == 2 and np.allclose(cmp.real[0].tau, tau)
    assert not np.array_equal(cmp.real[0].test_loss, cmp.real[1].test_loss)
    assert cmp.mean("real", "test_loss").shape == (5,)
    with pytest.raises(ValueError, match="X has 20 points"):
        rfdiff.tools.real_data_comparison(rfdiff.Problem(2, 2, 0.1, "tanh"), X[:20], tau)
