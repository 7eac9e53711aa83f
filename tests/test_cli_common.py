"""The CLI's shared pieces: grids, argument types, JSON encoding, output, ``--tau-max inf``."""

import argparse
import json
import math

import numpy as np
import pytest

from rfdiff.cli import _common
from rfdiff.cli.main import build_parser, main


def test_log_grid_is_validated_and_log_spaced():
    grid = _common.log_grid("tau", 0.1, 1e3, 5)
    np.testing.assert_allclose(grid, [0.1, 1.0, 10.0, 100.0, 1000.0])
    for lo, hi, n, msg in [(0.0, 1.0, 3, "tau-min must be > 0"),
                           (1.0, math.inf, 3, "tau-max must be finite"),
                           (10.0, 1.0, 3, "tau-max must exceed tau-min"),
                           (1.0, 10.0, 0, "points must be a positive integer")]:
        with pytest.raises(ValueError, match=msg):
            _common.log_grid("tau", lo, hi, n)


def test_log_grid_inf_runs_to_the_default_maximum_then_infinity():
    grid = _common.log_grid("tau", 1.0, math.inf, 3, inf_max=100.0)
    assert grid.tolist() == [1.0, 10.0, 100.0, math.inf]
    with pytest.raises(ValueError, match="tau-max inf: the finite grid runs to 100"):
        _common.log_grid("tau", 1e3, math.inf, 3, inf_max=100.0)


@pytest.mark.parametrize("argv", [["simulate", "--d", "0"], ["spectrum", "--d", "-3"],
                                  ["generate", "--d", "0"], ["report", "--d", "0"]])
def test_d_is_checked_once_with_one_message(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("rfdiff: error:") and err.count("\n") == 1
    assert "d must be a positive integer, got" in err


def test_dimension_and_seed_types():
    assert _common.dimension("d")("7") == 7
    with pytest.raises(argparse.ArgumentTypeError, match="compare-d must be a positive integer"):
        _common.dimension("compare-d")("x")
    assert _common.seed("seed")(str(-2**63)) == -2**63
    with pytest.raises(argparse.ArgumentTypeError, match="seed must be an integer in"):
        _common.seed("seed")(str(2**63))


@pytest.mark.parametrize("argv,msg", [
    (["simulate", "--seed", str(2**64)], "seed must be an integer in"),
    (["curves", "--compare-d", "0"], "compare-d must be a positive integer"),
    (["coefficients", "--plot", "x.png"], "--plot is not available for 'coefficients'"),
    (["phase-diagram", "--tau-max", "inf", "--quiet"], "tau-max must be finite"),
    (["generate", "--tau-max", "inf", "--no-infinity"], "contradicts --no-infinity"),
])
def test_bad_flags_exit_2_with_one_line(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1 and "Traceback" not in err


def test_jsonable_spells_inf_and_nan_as_strings():
    data = {"a": np.array([1.0, np.inf, -np.inf, np.nan]), "b": (np.float64(2.5), np.int64(3)),
            1: np.bool_(True), "c": float("nan")}
    out = _common.jsonable(data)
    assert out == {"a": [1.0, "inf", "-inf", "nan"], "b": [2.5, 3], "1": True, "c": "nan"}
    json.dumps(out, allow_nan=False)


def test_emit_adds_parameters_prints_json_and_writes_the_figure(tmp_path, capsys):
    from matplotlib.figure import Figure

    args = argparse.Namespace(json=True, plot=str(tmp_path / "f.png"))
    made = []

    def figure():
        made.append(Figure())
        made[0].subplots().plot([1, 2])
        return made[0]

    assert _common.emit(args, {"x": np.inf}, {"psi_p": 16.0}, figure) == 0
    assert json.loads(capsys.readouterr().out) == {"x": "inf", "parameters": {"psi_p": 16.0}}
    assert (tmp_path / "f.png").stat().st_size > 0 and len(made) == 1
    args.plot = str(tmp_path / "missing" / "f.png")
    with pytest.raises(ValueError, match="cannot write --plot"):
        _common.emit(args, {}, None, figure)


def test_every_subcommand_and_help_text():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == {"coefficients", "simulate", "spectrum", "curves", "timescales",
                                "phase-diagram", "generate", "report", "validate"}
    for name, p in sub.choices.items():
        for action in p._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, (name, action.option_strings)
    generate = sub.choices["generate"].parse_args([])
    assert (generate.d, generate.psi_p, generate.tau_max, generate.points) == (32, 32.0, 1e8, 15)
    assert "default 32" in sub.choices["generate"].format_help()


def test_curves_tau_max_inf(capsys):
    assert main(["curves", "--points", "3", "--tau-min", "1", "--tau-max", "inf", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tau"] == [1.0, pytest.approx(math.sqrt(1e5)), 1e5, "inf"]
    assert len(data["gen_loss"]) == 4 and all(data["converged"])
    # at τ = ∞ the generalisation loss is at its largest, L_gen(∞) > L_gen(1e5)
    assert data["gen_loss"][-1] > data["gen_loss"][-2] > 0


def test_simulate_tau_max_inf_ends_with_the_infinite_time_point(capsys):
    argv = ["simulate", "--d", "6", "--psi-p", "2", "--psi-n", "1", "--points", "2",
            "--tau-max", "inf", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tau"] == [0.1, 1e5, "inf"] and len(data["train_loss"]) == 3
