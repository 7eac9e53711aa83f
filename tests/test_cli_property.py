"""Property-based: random argument lists through every subcommand end in exit 0 or in one
line ``rfdiff: error: ...`` with exit 2, never a traceback, and bad values are refused
before any computation.

The flags and their kinds are read from the parser itself, so a new flag is covered
without editing this file. Examples are bounded (a few dozen, each well under a second:
no computation is reached), so the test stays in the default run.
"""

import argparse
import contextlib
import io

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="pip install rfdiff[test]")
st = pytest.importorskip("hypothesis.strategies")

from rfdiff.cli.main import build_parser, main

# small valid values that any subcommand accepts (sizes kept tiny)
SAFE = {"--d": "4", "--psi-p": "1", "--psi-n": "1", "--points": "3", "--seed": "1",
        "--json": None, "--quiet": None, "--t": "0.2", "--activation": "relu"}
# values no numeric flag may accept
BAD_NUMBERS = ("x", "nan", "", "1e", "--")


def _flags():
    """{subcommand: [(flag, kind, choices)]} from the parser; kind is "switch",
    "number" or "text"."""
    sub = next(a for a in build_parser()._actions
               if isinstance(a, argparse._SubParsersAction))
    table = {}
    for name, parser in sub.choices.items():
        rows = []
        for action in parser._actions:
            flag = next((o for o in action.option_strings if o.startswith("--")), None)
            if flag in (None, "--help", "--plot", "--debug", "--out"):
                continue
            if action.nargs == 0:
                rows.append((flag, "switch", None))
            elif action.type is not None:
                rows.append((flag, "number", None))
            else:
                rows.append((flag, "text", action.choices))
        table[name] = rows
    return table


FLAGS = _flags()


@st.composite
def bad_command(draw):
    """A subcommand, some safe flags and at least one bad value, shuffled by flag."""
    name = draw(st.sampled_from(sorted(FLAGS)))
    own = {f for f, _, _ in FLAGS[name]}
    numeric = [(f, c) for f, k, c in FLAGS[name] if k == "number"]
    chosen = [(f, c) for f, k, c in FLAGS[name] if k == "text" and c]
    bad_kinds = ["number"] + (["choice"] if chosen else []) + ["unknown", "twice"]
    kind = draw(st.sampled_from(bad_kinds))
    if kind == "number":
        flag = draw(st.sampled_from(numeric))[0]
        bad = [flag, draw(st.sampled_from(BAD_NUMBERS))]
    elif kind == "choice":
        flag = draw(st.sampled_from(chosen))[0]
        bad = [flag, "bogus"]
    elif kind == "unknown":
        bad = [draw(st.sampled_from(["--no-such-flag", "stray", "-z"]))]
    else:
        bad = ["--sigma", "1:1", "--sigma", "2:1"]
    # safe flags other than the bad one (a later value would replace the bad value)
    safe = draw(st.lists(st.sampled_from(sorted(set(SAFE) & own - set(bad))), unique=True,
                         max_size=4))
    pieces = [[f] + ([] if SAFE[f] is None else [SAFE[f]]) for f in safe] + [bad]
    order = draw(st.permutations(range(len(pieces))))
    return [name] + [tok for i in order for tok in pieces[i]]


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def no_compute():
    """Every compute entry point of the CLI raises: a check that runs after the compute
    started would show as exit 1 (an internal error) instead of 2."""
    import rfdiff._finite as finite
    import rfdiff._generation as generation
    import rfdiff._phase as phase
    import rfdiff._spectrum as spectrum
    import rfdiff._theory as theory
    import rfdiff._timescales as timescales

    def computed(*args, **kwargs):
        raise AssertionError("a computation started before the checks finished")

    mp = pytest.MonkeyPatch()
    for mod, name in [(theory, "asymptotic_curves"), (theory, "solve_on_grid"),
                      (finite, "finite_size_instance"), (timescales, "timescales"),
                      (generation, "score_field"), (phase, "phase_map_time"),
                      (phase, "phase_map_size"), (spectrum, "spectral_structure")]:
        mp.setattr(mod, name, computed)
    import rfdiff._report as report

    mp.setattr(report, "make_report", computed)
    yield
    mp.undo()


@hypothesis.settings(max_examples=120, deadline=2000, derandomize=True,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(argv=bad_command())
def test_bad_arguments_exit_2_with_one_line_before_any_compute(argv, no_compute):
    rc, out, err = _run(argv)
    assert rc == 2, (argv, err)
    assert out == "" and err.count("\n") == 1 and err.startswith("rfdiff: error: "), argv
    assert "Traceback" not in err


@hypothesis.settings(max_examples=15, deadline=5000, derandomize=True)
@hypothesis.given(psi_p=st.sampled_from(["0.5", "1", "4", "16"]),
                  t=st.sampled_from(["0.01", "0.1", "1", "3"]),
                  activation=st.sampled_from(["tanh", "relu", "erf", "linear", "gelu"]),
                  sigma=st.sampled_from(["isotropic", "1:0.5,3:0.5", "2:1"]))
def test_valid_cheap_commands_exit_0(psi_p, t, activation, sigma):
    rc, out, err = _run(["coefficients", "--psi-p", psi_p, "--t", t, "--activation",
                         activation, "--sigma", sigma, "--json"])
    assert rc == 0 and out.startswith("{"), err
