"""One vocabulary for τ_gen and τ_mem: the crossing helper, the definitions record, the
consistency of curve timescales and phase boundaries, the ``sampler`` argument."""

import warnings

import numpy as np
import pytest

import rfdiff
from rfdiff._common import NotConvergedError, Status
from rfdiff._generation.score_field import diffusion_times, score_field
from rfdiff._generation.study import generation_curve
from rfdiff._phase.boundaries import Boundaries, _solve_time_boundaries
from rfdiff._phase.maps import PhaseThresholds
from rfdiff._timescales import (GLOSSARY, TimescaleDefinitions, bisect_log,
                                bisect_log_integer, bisection_iterations, curve_timescales,
                                first_crossing, first_index)
from rfdiff._timescales.timescales import SpectralTimescales

TAU = np.array([1.0, 10.0, 100.0, 1000.0])


# --- crossing helper -------------------------------------------------------------------

def test_crossing_exact_on_log_linear_curves():
    # y linear in log10 τ: the interpolated crossing is exact
    y = np.log10(TAU)  # 0, 1, 2, 3
    assert first_crossing(TAU, y, 1.5) == pytest.approx(10 ** 1.5, rel=1e-14)
    assert first_crossing(TAU, -y, -2.25, direction="down") == pytest.approx(10 ** 2.25,
                                                                             rel=1e-14)
    # on a grid point: that grid time
    assert first_crossing(TAU, y, 2.0) == pytest.approx(100.0, rel=1e-14)
    # interpolation in log y as well (pass logs)
    v = 10.0 ** np.array([0.0, 0.0, 2.0, 2.0])
    assert first_crossing(TAU, np.log(v), np.log(10.0)) == pytest.approx(10 ** 1.5, rel=1e-14)


def test_crossing_not_on_grid_is_inf_and_start_semantics():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    assert first_crossing(TAU, y, 5.0) == np.inf
    assert first_crossing(TAU, y, -1.0, direction="down") == np.inf
    assert first_crossing(TAU, y, 5.0, strict=True) == np.inf
    # reached already at the start: the start time (not strict) or inf (strict: no return)
    assert first_crossing(TAU, y, 0.5, start=2) == 100.0
    assert first_crossing(TAU, y, 0.5, start=2, strict=True) == np.inf
    # strict: a curve above the level must come back below it first
    bump = np.array([2.0, 0.0, 2.0, 3.0])
    assert first_crossing(TAU, bump, 1.0, strict=True) == pytest.approx(10 ** 1.5)
    assert first_crossing(TAU, bump, 1.0) == 1.0
    assert first_crossing(np.array([]), np.array([]), 0.0) == np.inf
    idx, found = first_index(np.stack([y, -y]), 1.5, start=[0, 0])
    assert idx.tolist() == [2, 0] and found.tolist() == [True, False]
    with pytest.raises(ValueError, match="direction must be one of"):
        first_crossing(TAU, y, 1.0, direction="sideways")
    with pytest.raises(ValueError, match="tau must have shape"):
        first_crossing(TAU[:3], y, 1.0)


def test_crossing_batch_equals_loop():
    rng = np.random.default_rng(1)
    tau = np.logspace(-1, 4, 26)
    y = np.cumsum(rng.normal(size=(9, tau.size)), axis=1)
    level = rng.normal(size=9)
    start = rng.integers(0, tau.size, 9)
    for strict in (False, True):
        for direction in ("up", "down"):
            batch = first_crossing(tau, y, level, direction=direction, start=start,
                                   strict=strict)
            loop = [first_crossing(tau, y[b], level[b], direction=direction, start=start[b],
                                   strict=strict) for b in range(9)]
            np.testing.assert_array_equal(batch, np.array(loop, float))


def test_bisections():
    lo, hi = np.array([1.0, 2.0]), np.array([10.0, 2e3])
    roots = np.array([3.0, 50.0])
    n = bisection_iterations(lo, hi, 1e-6)
    assert n == int(np.ceil(np.log2(np.log(1e3) / 1e-6))) + 1
    x = bisect_log(lambda t: np.log(roots / t), lo, hi, rel_tol=1e-6)
    np.testing.assert_allclose(x, roots, rtol=1e-6)
    # either orientation of the sign change
    np.testing.assert_allclose(bisect_log(lambda t: np.log(t / roots), lo, hi, iters=n), roots,
                               rtol=1e-6)
    with pytest.raises(ValueError, match="exactly one"):
        bisect_log(np.log, lo, hi)
    calls = []
    lo_i, hi_i, probes = bisect_log_integer(lambda m: calls.append(m) or m < 37, 1, 1000, 0.0)
    assert (lo_i, hi_i) == (36, 37) and probes == len(calls)


# --- the definitions record ------------------------------------------------------------

def test_definitions_defaults_glossary_and_validation():
    d = TimescaleDefinitions()
    assert d == (2.0, 0.5, 0.25, 0.1, 2.0)
    assert d._fields == ("gen_factor", "mem_fraction", "mem_threshold", "gen_threshold",
                         "mem_factor")
    text = d.describe()
    for name in ("tau_gen_spectral", "tau_gen_argmin", "tau_gen_reached", "tau_mem_spectral",
                 "tau_mem_onset", "tau_mem_fraction", "tau_mem_level", "tau_mem_threshold",
                 "tau_mem_score"):
        assert name in GLOSSARY and f"{name}: " in text
    assert "max(0.5 x L_gen(inf), 0.25)" in d.glossary()["tau_mem_level"]
    assert "E_score <= 2 x min" in d.describe("curve")
    with pytest.raises(ValueError, match="scope must be"):
        d.describe("nope")
    # the phase thresholds are the same record, positional order unchanged
    th = PhaseThresholds(3.0, 0.4, 0.1)
    assert isinstance(th, TimescaleDefinitions) and th.mem_threshold == 0.1
    assert th.describe() == th.describe("phase") and "max(0.4 x L_gen(inf), 0.1)" in th.describe()
    assert rfdiff.tools.PhaseThresholds is PhaseThresholds
    for kwargs, msg in [({"gen_factor": 1.0}, "gen_factor must be > 1, got 1.0"),
                        ({"mem_factor": 0.5}, "mem_factor must be > 1, got 0.5"),
                        ({"mem_fraction": 1.5}, "mem_fraction must be in \\(0, 1\\), got 1.5"),
                        ({"mem_fraction": 0.0}, "mem_fraction must be > 0"),
                        ({"mem_threshold": -1.0}, "mem_threshold must be > 0, got -1.0"),
                        ({"gen_threshold": float("nan")}, "gen_threshold must be finite"),
                        ({"nope": 1.0}, "unknown thresholds")]:
        with pytest.raises(ValueError, match=msg):
            TimescaleDefinitions.of(**kwargs)
    assert TimescaleDefinitions.of(PhaseThresholds(), mem_threshold=None) == d


# --- one record for curve timescales and phase boundaries ------------------------------

def _v_curves():
    """E_score a V in log10 τ with its minimum 0.1 at τ = 1; L_gen rising linearly in
    log10 τ from 0 at τ = 10 to L_gen(∞) = 1 at τ = 1000. Both are linear in log τ
    between the points of the grid, so grid crossings and roots agree exactly."""
    grid = np.logspace(-2, 4, 49)

    def score(t):
        return 0.1 + 0.2 * np.abs(np.log10(t))

    def gen(t):
        return np.clip(0.5 * (np.log10(t) - 1.0), 0.0, 1.0)

    return grid, score, gen


@pytest.mark.parametrize("th", [TimescaleDefinitions(), TimescaleDefinitions(gen_factor=3.0),
                                TimescaleDefinitions(mem_threshold=0.75),
                                TimescaleDefinitions(mem_fraction=0.25, mem_threshold=0.1)])
def test_curve_timescales_and_phase_boundaries_share_the_record(th):
    grid, score, gen = _v_curves()
    curves = {"tau": np.append(grid, np.inf), "score_error": np.append(score(grid), 1.0),
              "gen_loss": np.append(gen(grid), 1.0)}
    ct = curve_timescales(curves, thresholds=th)
    tg, tm, tmin = _solve_time_boundaries(grid, gen(grid)[None], score(grid)[None],
                                          np.array([1.0]), lambda x: (gen(x), score(x)),
                                          PhaseThresholds.of(th))
    # the analytic crossings of the definitions
    expect_gen = 10 ** (-(th.gen_factor - 1) * 0.1 / 0.2)
    level = max(th.mem_fraction, th.mem_threshold)
    expect_mem = 10 ** (1 + 2 * level)
    assert ct.tau_gen_reached == pytest.approx(expect_gen, rel=1e-12)
    assert tg[0] == pytest.approx(expect_gen, rel=2e-6)
    assert ct.tau_mem_level == pytest.approx(expect_mem, rel=1e-12)
    assert tm[0] == pytest.approx(expect_mem, rel=2e-6)
    assert ct.tau_gen_argmin == ct.tau_gen == pytest.approx(1.0, rel=1e-12)
    assert tmin[0] == 1.0
    # tau_mem (= tau_mem_fraction) ignores the floor
    assert ct.tau_mem_fraction == pytest.approx(10 ** (1 + 2 * th.mem_fraction), rel=1e-12)
    assert "tau_mem_level" in ct._asdict() and "tau_mem" in ct._asdict()


def test_keyword_thresholds_override_the_record():
    grid, score, gen = _v_curves()
    curves = {"tau": grid, "score_error": score(grid), "gen_loss": gen(grid)}
    a = curve_timescales(curves, gen_factor=3.0, thresholds=TimescaleDefinitions(2.0))
    b = curve_timescales(curves, thresholds=TimescaleDefinitions(3.0))
    assert a == b
    with pytest.raises(ValueError, match="gen_factor must be > 1"):
        curve_timescales(curves, gen_factor=0.5)


# --- records and statuses --------------------------------------------------------------

def test_spectral_timescales_record_unpacks_as_before():
    rec = SpectralTimescales([], {"spectral": 1.0}, {"spectral": 3.0, "onset": 2.0}, (),
                             Status.NOT_CONVERGED)
    parts, tau_gen, tau_mem, notes = rec
    assert rec.tau_gen_spectral == 1.0 and rec.tau_mem_onset == 2.0
    assert rec.status is Status.NOT_CONVERGED
    assert rec._replace(notes=("x",)).status is Status.NOT_CONVERGED
    assert len(rec) == 4


def test_boundaries_are_dicts_with_names_and_status():
    b = Boundaries({"psi_n": np.array([1.0]), "tau_gen": np.array([2.0]),
                    "tau_mem": np.array([np.inf])}, Status.SUCCESSFUL, np.array([True]))
    assert b["tau_gen"] is b.tau_gen_reached and b.tau_mem_level is b["tau_mem"]
    assert b.as_dict() == {"psi_n": [1.0], "tau_gen": [2.0], "tau_mem": [np.inf]}
    assert {**b}.keys() == b.keys() and b.status is Status.SUCCESSFUL
    pm = Boundaries({"boundary_tau_mem": 5.0})
    assert pm.tau_mem_level == 5.0
    with pytest.raises(AttributeError):
        b.nope


def test_default_grids_keep_their_names():
    from rfdiff._generation.score_field import DEFAULT_LOSS_TAU
    from rfdiff._generation.study import DEFAULT_TAU as GEN
    from rfdiff._phase.diffusion_time import DEFAULT_TAU as DIFF
    from rfdiff._timescales.timescales import DEFAULT_TAU as TS

    np.testing.assert_array_equal(TS, np.logspace(-2, 7, 181))
    np.testing.assert_array_equal(GEN, np.concatenate([np.logspace(1, 8, 15), [np.inf]]))
    np.testing.assert_array_equal(DIFF, np.logspace(0, 7, 57))
    np.testing.assert_array_equal(DEFAULT_LOSS_TAU, np.append(np.logspace(-2, 8, 201), np.inf))
    with pytest.raises(ValueError):
        TS[0] = 1.0  # a shared default cannot be changed through one user


def test_not_converged_raises_with_throw():
    from rfdiff._phase.boundaries import _check

    with pytest.warns(RuntimeWarning, match="time_boundaries: not converged"):
        assert _check(np.array([True, False]), "time_boundaries", np.array([1.0, 2.0]),
                      False) is Status.NOT_CONVERGED
    with pytest.raises(NotConvergedError, match="at 1 point"):
        _check(np.array([True, False]), "time_boundaries", np.array([1.0, 2.0]), True)


# --- the sampler argument of generation ------------------------------------------------

@pytest.fixture(scope="module")
def tiny_field():
    return score_field(rfdiff.Problem(4, 1, 1.0), 4, diffusion_times(1e-3, 2.0, 4), seed=0)


def test_generation_curve_method_is_deprecated_for_sampler(tiny_field):
    kw = dict(n_samples=16, steps=10, bootstrap=10, projections=8, references=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new = generation_curve(tiny_field, [10.0], sampler="heun", **kw)
    with pytest.warns(DeprecationWarning, match="use 'sampler'") as rec:
        old = generation_curve(tiny_field, [10.0], method="heun", **kw)
    assert rec[0].filename == __file__  # points at the caller
    assert new.settings["method"] == old.settings["method"] == "heun"
    assert new.settings["sampler"] == "heun"
    np.testing.assert_array_equal(new.metrics["f_mem"], old.metrics["f_mem"])
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="disagree"):
        generation_curve(tiny_field, [10.0], method="heun", sampler="euler", **kw)
