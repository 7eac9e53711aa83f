"""Nothing silent: checks before compute, errors instead of garbage, records that pickle and
load back, one JSON encoding, progress on stderr, one-line CLI errors."""

import io
import json
import math
import pickle
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

import rfdiff
from rfdiff._common import seed_int
from rfdiff._timescales import TIMESCALES_TAU, curve_grid
from rfdiff.cli.main import main

TINY = rfdiff.Problem(1.0, 1.0, 0.1, "tanh")  # d = 4 gives p = n = 4: compiles in seconds


@pytest.fixture(scope="module")
def instance():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the d = 4 Mehler bound is loose
        return rfdiff.finite_size_instance(TINY, 4, seed=3)


@pytest.fixture(scope="module")
def flow(instance):
    return rfdiff.gradient_flow(instance)


# ----------------------------------------------------------------------------- API checks

@pytest.mark.parametrize("value", ["3", 3.0, True, 2**63, -2**63 - 1, None, 1 + 0j])
def test_seed_must_be_a_64_bit_integer(value):
    with pytest.raises(ValueError, match="seed must be an integer"):
        seed_int("seed", value)
    with pytest.raises(ValueError, match="seed must be an integer"):
        rfdiff.finite_size_instance(TINY, 4, seed=value)


def test_integer_seeds_of_every_kind_are_accepted():
    assert [seed_int("seed", v) for v in (5, np.int64(-7), jnp.int32(9), 2**63 - 1)] == \
        [5, -7, 9, 2**63 - 1]


def test_learning_curves_refuses_an_empty_grid_and_a_non_flow(flow):
    with pytest.raises(ValueError, match="tau must hold at least one time"):
        rfdiff.learning_curves(flow, [])
    with pytest.raises(ValueError, match="flow must be a rfdiff.Flow"):
        rfdiff.learning_curves("flow", [1.0])


def test_learning_curves_plans_the_memory_of_its_grid(flow, monkeypatch):
    from rfdiff._common import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 10_000)
    with pytest.raises(rfdiff.MemoryPlanError, match="learning curves on 1000 times"):
        rfdiff.learning_curves(flow, np.logspace(-1, 3, 1000))


@pytest.mark.parametrize("psi_n,tau,name", [([], [1.0], "psi_n"), ([1.0], [], "tau"),
                                            ([[1.0, 2.0]], [1.0], "psi_n"),
                                            ([1.0], [0.0], "tau")])
def test_phase_maps_refuse_empty_or_bad_grids(psi_n, tau, name):
    with pytest.raises(ValueError, match=name):
        rfdiff.phase_map_time(TINY, psi_n, tau)
    if name == "psi_n":
        with pytest.raises(ValueError, match=name):
            rfdiff.phase_map_size(TINY, psi_n, [1.0, 2.0], 10.0)


def test_a_missed_mehler_target_is_recorded_warned_or_raised():
    # two Mehler orders at d = 4 leave a tail bound of order 1e-2 of the diagonal: far
    # above both mehler_tol and the warning level (1e-6 of the diagonal)
    with pytest.warns(RuntimeWarning, match="raise max_mehler_terms"):
        inst = rfdiff.finite_size_instance(TINY, 4, seed=3, max_mehler_terms=2)
    assert inst.info["mehler_status"] == "not_converged"
    assert inst.info["mehler_bound"] > 1e-10
    with pytest.raises(rfdiff.NotConvergedError, match="misses mehler_tol"):
        rfdiff.finite_size_instance(TINY, 4, seed=3, max_mehler_terms=2, throw=True)
    # a target that is met: successful, silent
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ok = rfdiff.finite_size_instance(TINY, 4, seed=3, mehler_tol=1.0)
    assert ok.info["mehler_status"] == "successful"


def test_diverging_gradient_descent_raises_or_flags(instance):
    big = 1e6 * instance.d**2  # a step far past the stability limit 2/λ_max
    with pytest.raises(rfdiff.NotConvergedError, match="past the stability limit"):
        rfdiff.gradient_descent(instance, eta=big, steps=40, points=10)
    with pytest.warns(RuntimeWarning, match="lower eta"):
        c = rfdiff.gradient_descent(instance, eta=big, steps=40, points=10, throw=False)
    conv = np.asarray(c.converged)
    assert not conv[-1] and c.status is not rfdiff.Status.SUCCESSFUL
    assert conv[:int(np.argmin(conv))].all()  # flagged from the first growth on
    # a small step descends: silent and unflagged
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ok = rfdiff.gradient_descent(instance, eta=0.01 * instance.d**2, steps=40, points=10)
    assert ok.converged is None and np.all(np.diff(np.asarray(ok.train_loss)) <= 1e-12)


def test_curve_grid_reaches_past_the_spectral_timescales():
    assert curve_grid({"spectral": 10.0}, {"spectral": 1e4, "onset": 1e5}) is TIMESCALES_TAU
    grid = curve_grid({"spectral": 3.0}, {"spectral": 2.5e8, "onset": math.inf})
    assert grid[0] == TIMESCALES_TAU[0] and grid[-1] >= 100 * 2.5e8
    # the same density as the default grid: 20 points a decade
    np.testing.assert_allclose(np.diff(np.log10(grid)), 0.05, rtol=1e-9)
    # the slowest mode (an s_t² atom at small t) also sets the end: 10 × its time
    slow = curve_grid({"spectral": 3.0}, {"spectral": 1e3},
                      [{"tau_slow": 4e13}, {"tau_slow": math.inf}])
    assert slow[-1] >= 10 * 4e13
    # the points of the default grid are kept, so crossings before 1e7 do not move
    np.testing.assert_allclose(slow[:TIMESCALES_TAU.size], TIMESCALES_TAU, rtol=1e-12)


@pytest.mark.slow
def test_timescales_at_small_t_finds_the_curve_tau_mem():
    # t = 1e-6 puts the spectral tau_mem near 2.5e8, past the former grid's end at 1e7,
    # and the s_t² atom's modes near 4e13: the curve tau_mem (half of L_gen(∞), which
    # the atom dominates) lies past the spectral one and is now on the grid
    ts = rfdiff.timescales(rfdiff.Problem(16.0, 4.0, 1e-6, "tanh"))
    assert ts.tau_mem["spectral"] > 1e7
    assert ts.tau_mem["spectral"] < ts.tau_mem["curve"] < math.inf
    with pytest.warns(RuntimeWarning, match="extend tau"):
        short = rfdiff.timescales(rfdiff.Problem(16.0, 4.0, 1e-6, "tanh"),
                                  tau=np.logspace(-2, 5, 50))
    assert any("not on the grid" in n for n in short.notes)


# ----------------------------------------------------------------------------- records

def _module_level_activation(x):
    return jnp.tanh(x) + 0.1 * x


def test_records_pickle(instance, flow):
    custom = rfdiff.Problem(2.0, 1.0, 0.1, rfdiff.Activation("soft", _module_level_activation))
    curves = rfdiff.learning_curves(flow, [0.5, 5.0, 50.0, np.inf])
    records = [TINY, custom, TINY.activation, rfdiff.activation("relu"), TINY.spectrum,
               TINY.coefficients, instance, flow, curves,
               rfdiff.curve_timescales(curves)]
    for rec in records:
        back = pickle.loads(pickle.dumps(rec))
        assert type(back) is type(rec)
        if isinstance(rec, rfdiff.Instance):
            np.testing.assert_array_equal(back.U, rec.U)
            assert back.problem == rec.problem and back.info == rec.info
        elif isinstance(rec, rfdiff.Flow):
            np.testing.assert_array_equal(back.eigvals, rec.eigvals)
        elif isinstance(rec, rfdiff.Curves):
            np.testing.assert_array_equal(back.train_loss, rec.train_loss)
        elif not isinstance(rec, rfdiff.CurveTimescales):
            assert back == rec
    # a shipped activation comes back as the same object (its compiled kernels are shared)
    assert pickle.loads(pickle.dumps(TINY)).activation is TINY.activation


def test_json_is_standard_and_loads_back(flow, tmp_path):
    from rfdiff._io import dumps, record_dict

    curves = rfdiff.learning_curves(flow, [0.5, 5.0, 50.0, np.inf])
    ct = rfdiff.curve_timescales(curves)
    for rec in (TINY, curves, ct):
        text = dumps(rec)
        assert "Infinity" not in text and "NaN" not in text
        json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard {c}"))
        path = tmp_path / "rec.json"
        path.write_text(text)
        back = rfdiff.load(path)
        assert type(back) is type(rec)
    assert rfdiff.load(record_dict(TINY)) == TINY
    back = rfdiff.load(json.loads(dumps(curves)))
    np.testing.assert_array_equal(back.tau, curves.tau)  # inf came back as a float
    np.testing.assert_allclose(back.gen_loss, curves.gen_loss, rtol=0, atol=0)
    assert rfdiff.load(json.loads(dumps(ct))).tau_mem == ct.tau_mem


def test_load_reads_the_cli_json(tmp_path, capsys):
    assert main(["simulate", "--d", "4", "--psi-p", "1", "--psi-n", "1", "--points", "3",
                 "--tau-max", "inf", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tau"][-1] == "inf"
    curves = rfdiff.load(out)
    assert isinstance(curves, rfdiff.Curves) and math.isinf(float(curves.tau[-1]))
    assert rfdiff.load(out["parameters"]) == TINY
    # the model's own fields travel too: weight decay and noise samples
    pr = rfdiff.Problem(4, 2, 0.1, ridge=0.05, noise_samples=3)
    assert rfdiff.load(pr.params()) == pr


@pytest.mark.parametrize("source,msg", [({"a": 1}, "cannot tell which record"),
                                        ({"kind": "nope"}, "unknown record kind"),
                                        ({"kind": "problem", "psi_p": 1}, "missing key"),
                                        ("/nonexistent/x.json", "cannot read"),
                                        (3, "source must be a path or a dict")])
def test_load_errors_name_the_problem(source, msg):
    with pytest.raises(ValueError, match=msg):
        rfdiff.load(source)


# ----------------------------------------------------------------------------- CLI

def _run(argv, capsys):
    rc = main(argv)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.fixture
def no_compute(monkeypatch):
    """Make every compute entry point of the CLI fail loudly: a check that runs late
    would reach one of them and exit 1 instead of 2."""
    import rfdiff._finite as finite
    import rfdiff._generation as generation
    import rfdiff._phase as phase
    import rfdiff._spectrum as spectrum
    import rfdiff._theory as theory
    import rfdiff._timescales as timescales

    def computed(*args, **kwargs):
        raise AssertionError("a computation started before the checks finished")

    for mod, name in [(theory, "asymptotic_curves"), (finite, "finite_size_instance"),
                      (timescales, "timescales"), (generation, "score_field"),
                      (phase, "phase_map_time"), (phase, "phase_map_size"),
                      (spectrum, "spectral_structure")]:
        monkeypatch.setattr(mod, name, computed)


@pytest.mark.parametrize("argv,msg", [
    (["curves", "--points", "1000000", "--tau-max", "1e300"], "needs about"),
    (["phase-diagram", "--tau", "10", "--tau-min", "5"], "--tau-min not used by --tau maps"),
    (["phase-diagram", "--psi-p-max", "5"], "--psi-p-max not used by maps over"),
    (["curves", "--sigma", "1:1", "--sigma", "2:1"], "--sigma given twice"),
    (["simulate", "--method", "gaussian_equivalent", "--noise-draws", "5"],
     "--noise-draws is used by --method monte_carlo only"),
    (["timescales", "--mem-fraction", "1.5"], "mem_fraction must be in (0, 1)"),
    (["generate", "--samples", "0"], "samples must be a positive integer"),
    (["generate", "--level", "1.5"], "level must be in (0, 1)"),
    (["phase-diagram", "--confirm-d", "0"], "confirm-d must be a positive integer"),
    (["phase-diagram", "--confirm-d", "8", "--confirm-points", "0"],
     "confirm-points must be a positive integer"),
    (["phase-diagram", "--confirm-d", "8", "--confirm-factor", "1"],
     "confirm-factor must be > 1"),
    (["curves", "--plot", "x.txt"], "unknown figure format 'txt'"),
    (["spectrum", "--plot", "/nonexistent-folder/x.png"], "does not exist"),
    (["simulate", "--seed", "99999999999999999999"], "seed must be an integer in"),
    (["simulate", "--seed", "1.5"], "seed must be an integer in"),
])
def test_cli_refuses_before_any_compute_in_one_line(argv, msg, capsys, no_compute):
    rc, out, err = _run(argv, capsys)
    assert rc == 2, err
    assert err.count("\n") == 1 and err.startswith("rfdiff: error: ")
    assert msg in err and out == ""


def test_internal_error_is_one_line_and_debug_shows_the_trace(capsys, monkeypatch):
    from rfdiff.cli import coefficients

    def broken(args):
        raise KeyError("boom")

    monkeypatch.setattr(coefficients, "run", broken)
    rc, _, err = _run(["coefficients"], capsys)
    assert rc == 1 and err.count("\n") == 1
    assert err.startswith("rfdiff: internal error: KeyError") and "--debug" in err
    for argv in (["coefficients", "--debug"], ["--debug", "coefficients"]):
        rc, _, err = _run(argv, capsys)
        assert rc == 1 and "Traceback (most recent call last)" in err


def test_progress_on_stderr_unless_quiet(capsys):
    base = ["simulate", "--d", "4", "--psi-p", "1", "--psi-n", "1", "--points", "3"]
    rc, _, err = _run(base, capsys)
    assert rc == 0 and "[rfdiff] simulate: exact matrices at d=4" in err
    for argv in (base + ["--quiet"], ["--quiet"] + base):
        rc, _, err = _run(argv, capsys)
        assert rc == 0 and "[rfdiff]" not in err


def test_the_api_is_quiet_and_takes_a_progress_callback():
    calls = []
    stderr = io.StringIO()
    from contextlib import redirect_stderr

    with redirect_stderr(stderr):
        rfdiff.score_field(TINY, 4, times=[0.1, 0.5], seed=0, method="gaussian_equivalent",
                           progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)] and stderr.getvalue() == ""
