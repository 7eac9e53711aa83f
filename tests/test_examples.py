"""Each example script runs in its small mode and writes its figure and data."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_small_mode(script, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [script, "--small", "--out", str(tmp_path)])
    monkeypatch.syspath_prepend(str(EXAMPLES))
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert list(tmp_path.glob("*.png")), "no figure written"
