import json
import subprocess
import sys

import pytest

from rfdiff.cli.main import main


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_coefficients_json(capsys):
    code, out, _ = run(["coefficients", "--t", "0.1", "--activation", "erf", "--json"], capsys)
    data = json.loads(out)
    assert code == 0
    for key in ("mu0", "a", "b", "v2", "s2", "kappa", "delta", "parameters"):
        assert key in data
    assert data["parameters"]["activation"] == "erf"


def test_simulate_json_keys_and_plot(tmp_path, capsys):
    plot = tmp_path / "c.png"
    code, out, _ = run(["simulate", "--d", "12", "--psi-p", "4", "--psi-n", "2", "--points", "5",
                        "--method", "gaussian_equivalent", "--sigma", "0.5:0.5,1.5:0.5",
                        "--json", "--plot", str(plot)], capsys)
    data = json.loads(out)
    assert code == 0 and plot.stat().st_size > 1000
    for key in ("tau", "train_loss", "test_loss", "gen_loss", "score_error", "method"):
        assert key in data
    assert len(data["tau"]) == 5 and data["method"] == "gaussian_equivalent"
    assert data["parameters"]["sigma"] == "0.5:0.5,1.5:0.5"


@pytest.mark.parametrize("argv,msg", [
    (["coefficients", "--t", "-1"], "t must be > 0"),
    (["coefficients", "--activation", "nope"], "activation must be one of"),
    (["coefficients", "--sigma", "1:0.4"], "weights must sum to 1"),
    (["coefficients", "--sigma", "garbage"], "sigma must look like"),
    (["simulate", "--d", "0"], "d must be a positive integer"),
    (["simulate", "--psi-p", "nan"], "psi_p must be finite"),
    (["simulate", "--tau-min", "10", "--tau-max", "1"], "tau-max must exceed"),
    (["simulate", "--method", "bogus"], "invalid choice"),
])
def test_errors_exit_2_with_one_line(argv, msg, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert msg in err and err.count("\n") == 1 and "Traceback" not in err


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "rfdiff", "coefficients", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout)["kappa"] == 1.0
