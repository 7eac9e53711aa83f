"""``rfdiff spectrum``: JSON output, plot file, finite-size comparison, argument errors."""

import json

import pytest

from rfdiff.cli.main import main


def run_json(capsys, *args):
    status = main(["spectrum", "--json", *args])
    out = capsys.readouterr()
    assert status == 0, out.err
    return json.loads(out.out)


def test_json_output(capsys):
    data = run_json(capsys, "--psi-p", "16", "--psi-n", "4", "--t", "0.1", "--points", "50")
    for key in ("lambda", "density", "parts", "converged", "parameters"):
        assert key in data
    assert len(data["lambda"]) == len(data["density"]) == len(data["converged"]) == 50
    assert all(data["converged"])
    roles = [p["role"] for p in data["parts"]]
    assert roles == ["s2_atom", "d_component", "memorisation", "generalisation"]
    for part in data["parts"]:
        assert part["kind"] in ("atom", "bulk")
        assert {"lo", "hi", "mass", "role", "kind"} <= set(part)
    assert sum(p["mass"] for p in data["parts"]) == pytest.approx(1.0, abs=1e-8)
    assert data["parameters"]["psi_p"] == 16.0
    assert data["parameters"]["activation"] == "tanh"


def test_grid_options_and_sigma(capsys):
    data = run_json(capsys, "--psi-p", "8", "--psi-n", "2", "--sigma", "0.5:0.5,1.5:0.5",
                    "--activation", "relu", "--lambda-min", "0.01", "--lambda-max", "10",
                    "--points", "20", "--log-grid")
    assert data["lambda"][0] == pytest.approx(0.01) and data["lambda"][-1] == pytest.approx(10)
    assert data["parameters"]["sigma"] == "0.5:0.5,1.5:0.5"
    assert data["parts"][-1]["role"] == "outlier"  # relu: μ₀ ≠ 0


def test_plot_and_compare(tmp_path, capsys):
    path = tmp_path / "spectrum.png"
    data = run_json(capsys, "--psi-p", "4", "--psi-n", "2", "--points", "30",
                    "--compare-d", "20", "--plot", str(path))
    assert path.exists() and path.stat().st_size > 10_000
    compare = data["compare"]
    assert compare["d"] == 20 and compare["method"] == "exact"
    assert len(compare["eigenvalues"]) == 80
    assert 0 < compare["wasserstein1"] < 0.2
    # counts are reported at the comparison size
    assert sum(p["count"] for p in data["parts"]) == 80


def test_summary_output(capsys):
    assert main(["spectrum", "--psi-p", "4", "--psi-n", "2", "--points", "10"]) == 0
    assert "parts:" in capsys.readouterr().out


@pytest.mark.parametrize("args", [
    ["--points", "1"],
    ["--lambda-min", "2", "--lambda-max", "1"],
    ["--log-grid", "--lambda-min", "0"],
    ["--compare-d", "0"],
    ["--psi-p", "-1"],
    ["--sigma", "1:0.5"],
])
def test_bad_arguments_exit_with_status_2(args, capsys):
    assert main(["spectrum", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rfdiff: error:") and "Traceback" not in err
