"""``rfdiff spectrum``: JSON output, plot file, finite-size comparison (drawn or on given
data points), argument and file errors."""

import json

import numpy as np
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


# ------------------------------------------------------------------ given data points


def _npy(tmp_path, name, arr):
    path = tmp_path / name
    np.save(path, arr)
    return str(path)


def test_compare_on_given_data_points(tmp_path, capsys):
    # uniform (non-Gaussian) points: the finite-size U is the one simulate builds on them,
    # the sizes come from the files, and the theory keeps --sigma
    import rfdiff

    rng = np.random.default_rng(3)
    X, W = rng.uniform(-1.7, 1.7, (12, 6)), rng.standard_normal((24, 6))
    data = run_json(capsys, "--data", _npy(tmp_path, "x.npy", X), "--features",
                    _npy(tmp_path, "w.npy", W), "--points", "20")
    compare = data["compare"]
    assert (compare["d"], compare["p"], compare["n"]) == (6, 24, 12) and data["d"] == 6
    assert (data["parameters"]["psi_p"], data["parameters"]["psi_n"]) == (4.0, 2.0)
    assert data["parameters"]["sigma"] == "1:1"
    inst = rfdiff.finite_size_instance(rfdiff.Problem(4, 2, 0.1, "tanh"), None, X=X, W=W)
    np.testing.assert_allclose(compare["eigenvalues"], np.linalg.eigvalsh(inst.U),
                               rtol=1e-12, atol=1e-14)
    assert compare["data_kappa"] == pytest.approx(np.mean(X**2), rel=1e-12)
    assert compare["spectrum_kappa"] == 1.0 and compare["data"].endswith("x.npy")
    assert sum(p["count"] for p in data["parts"]) == 24  # counts at the files' d


def test_compare_on_given_features_only(tmp_path, capsys):
    # W alone: the points are drawn with the seed, n from --psi-n
    W = np.random.default_rng(4).standard_normal((12, 6))
    data = run_json(capsys, "--features", _npy(tmp_path, "w.npy", W), "--psi-n", "4",
                    "--points", "10")
    assert (data["compare"]["p"], data["compare"]["n"]) == (12, 24)
    assert "data_kappa" not in data["compare"]


@pytest.mark.parametrize("make,extra,msg", [
    (lambda p: str(p / "missing.npy"), [], "--data: no such file"),
    (lambda p: (p / "t.npy").write_text("not an array") and str(p / "t.npy"), [],
     "--data: cannot read"),
    (lambda p: _npy(p, "v.npy", np.ones(6)), [], "must hold a 2-D array"),
    (lambda p: _npy(p, "n.npy", np.full((12, 6), np.nan)), [], "X must be finite"),
    (lambda p: _npy(p, "c.npy", np.ones((12, 6))), [], "X is constant"),
    (lambda p: _npy(p, "x.npy", np.eye(12, 6)), ["--compare-d", "7"], "d=6 columns but d=7"),
    (lambda p: _npy(p, "x.npy", np.eye(12, 6)), ["--psi-n", "4"], "X has n=12 rows"),
])
def test_bad_data_files_exit_2_with_one_line(tmp_path, capsys, make, extra, msg):
    code = main(["spectrum", "--data", make(tmp_path), "--points", "10", *extra])
    err = capsys.readouterr().err
    assert code == 2 and msg in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_features_file_exit_2(tmp_path, capsys):
    path = _npy(tmp_path, "w.npy", np.zeros((12, 6)))
    assert main(["spectrum", "--features", path, "--points", "10"]) == 2
    err = capsys.readouterr().err
    assert "W has 12 zero rows" in err and err.count("\n") == 1
