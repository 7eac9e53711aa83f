"""`rfdiff phase-diagram`, `rfdiff curves` and `rfdiff timescales`: the contracted flags and keys."""

import json

import pytest

from rfdiff.cli.main import main


def _json(argv, capsys):
    code = main([*argv, "--json", "--quiet"] if argv[0] == "phase-diagram" else [*argv, "--json"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


@pytest.mark.slow  # > 10 s on 2 cores; run with -m slow
def test_phase_diagram_time_map_json_and_plot(tmp_path, capsys):
    plot = tmp_path / "p.png"
    data = _json(["phase-diagram", "--psi-p", "16", "--points", "4", "--psi-n-min", "1",
                  "--psi-n-max", "8", "--tau-min", "1", "--tau-max", "1e5", "--plot", str(plot)],
                 capsys)
    assert plot.stat().st_size > 1000
    for key in ("psi_n", "tau", "psi_p", "gen_loss", "score_error", "label", "label_names",
                "boundary_tau_gen", "boundary_tau_mem", "boundary_tau_mem_leading",
                "definitions", "parameters"):
        assert key in data, key
    assert len(data["label"]) == 4 and len(data["label"][0]) == 4
    assert data["label_names"] == ["not_generalising", "generalising", "memorising"]


@pytest.mark.slow  # > 10 s on 2 cores; run with -m slow
def test_phase_diagram_tau_map_has_boundary_pairs(capsys):
    data = _json(["phase-diagram", "--tau", "1000", "--points", "3", "--psi-p-min", "64",
                  "--psi-p-max", "256", "--psi-n-min", "0.5", "--psi-n-max", "64"], capsys)
    assert data["tau"] == 1000 and len(data["psi_p"]) == 3
    pairs = data["boundary"]
    assert len(pairs) == 3 and all(len(p) == 2 for p in pairs)
    assert [p[0] for p in pairs] == data["psi_p"]
    # horizontal for ψp ≫ ψn: ψn* between ½ Δ v² τ and Δ v² τ
    lead = data["psi_n_star_leading"][0]
    assert all(0.4 * lead < p[1] < lead for p in pairs), pairs


@pytest.mark.slow  # > 10 s on 2 cores; run with -m slow
def test_phase_diagram_confirmation_straddles_boundaries(capsys):
    data = _json(["phase-diagram", "--psi-p", "16", "--points", "2", "--psi-n-min", "2",
                  "--psi-n-max", "4", "--tau-min", "1", "--tau-max", "1e5", "--confirm-d", "16",
                  "--confirm-points", "3"], capsys)
    rows = data["confirmation"]
    assert len(rows) == 3 and data["confirmation_factor"] == 2.0
    for r in rows:
        for key in ("psi_n", "psi_p", "tau", "theory", "simulation", "theory_gen_loss",
                    "simulation_gen_loss", "agree"):
            assert key in r
    assert 0.0 <= data["confirmation_agreement"] <= 1.0


@pytest.mark.parametrize("argv,msg", [
    (["phase-diagram", "--tau", "-1"], "tau must be > 0"),
    (["phase-diagram", "--points", "0"], "points must be a positive integer"),
    (["phase-diagram", "--mem-fraction", "2"], "mem_fraction must be in (0, 1)"),
    (["phase-diagram", "--psi-n-min", "8", "--psi-n-max", "2"], "psi-n-max must exceed"),
])
def test_phase_diagram_errors(argv, msg, capsys):
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert msg in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow  # > 10 s on 2 cores; run with -m slow
def test_command_line_process_uses_one_cpu_device_per_core():
    # `python -m rfdiff` asks JAX for one CPU device per core (batches are split over them);
    # an explicit user choice is kept
    import os
    import subprocess
    import sys

    argv = [sys.executable, "-m", "rfdiff", "phase-diagram", "--psi-p", "16", "--points", "2",
            "--psi-n-min", "2", "--psi-n-max", "4", "--json", "--quiet"]
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    assert len(json.loads(out.stdout)["devices"]) == (os.cpu_count() or 1)
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=1"
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    assert len(json.loads(out.stdout)["devices"]) == 1
