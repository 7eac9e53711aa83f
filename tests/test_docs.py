"""Documentation: docstrings of the public API and an offline Sphinx build with -W."""

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import rfdiff

ROOT = Path(__file__).resolve().parents[1]


def _public_callables():
    for name in rfdiff.__all__:
        obj = getattr(rfdiff, name)
        if inspect.isfunction(obj):
            yield name, obj


@pytest.mark.parametrize("name,fn", list(_public_callables()))
def test_public_functions_document_args_returns_raises(name, fn):
    doc = inspect.getdoc(fn) or ""
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert doc, f"{name} has no docstring"
    if params:
        assert "Args:" in doc, f"{name} docstring lacks 'Args:'"
    assert "Returns:" in doc, f"{name} docstring lacks 'Returns:'"
    assert "Raises:" in doc, f"{name} docstring lacks 'Raises:'"


def test_public_classes_have_docstrings():
    for name in rfdiff.__all__:
        obj = getattr(rfdiff, name)
        if inspect.isclass(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_sphinx_build_with_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    out = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                          "html", str(ROOT / "docs"), str(tmp_path / "html")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-4000:]
    assert (tmp_path / "html" / "index.html").exists()
