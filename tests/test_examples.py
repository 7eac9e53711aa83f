"""Each example script runs in its small mode and writes its figure and data."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# scripts that run finite-size sweeps or long theory scans even in small mode (~0.5-1.5 min
# each on 2 cores) run with `-m slow`, which keeps the default run within its time budget
_SLOW = {"phase_confirmation.py", "phase_confirmation_models.py", "real_data_digits.py",
         "teaching_walkthrough.py", "fig5c_phase_diagram.py", "phase_vs_diffusion_time.py",
         "memorisation_in_samples.py", "widest_window.py", "fig5ab_timescales.py"}
_NAMES = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
SCRIPTS = [pytest.param(n, marks=pytest.mark.slow) if n in _SLOW else n for n in _NAMES]


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_small_mode(script, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [script, "--small", "--out", str(tmp_path)])
    monkeypatch.syspath_prepend(str(EXAMPLES))
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert list(tmp_path.glob("*.png")), "no figure written"
