"""Saved results: one JSON encoding, and :func:`load` back into the records.

JSON has no infinity or NaN; rfdiff writes them as the strings ``"inf"``, ``"-inf"`` and
``"nan"`` everywhere (the CLI's ``--json`` output and :func:`dumps` alike), so that every
file it writes is standard JSON (``json.loads`` of any JSON reader accepts it). :func:`load`
reads them back as floats.

A saved record carries ``"kind"`` (:func:`record_dict`); the CLI's JSON outputs, which
carry none, are recognised by their keys. This module gathers records from several
subpackages, like :mod:`rfdiff.core` and :mod:`rfdiff.tools`.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from ._common import CURVE_KEYS, Curves, Status
from ._generation import MemorisationStudy
from ._model import Problem, parse_spectrum
from ._timescales import CurveTimescales, Timescales

__all__ = ["jsonable", "dumps", "record_dict", "load"]

_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def jsonable(obj):
    """``obj`` as plain JSON values; inf and nan become ``"inf"``, ``"-inf"``, ``"nan"``.

    Args:
        obj: dicts, lists, tuples, NumPy/JAX arrays and scalars, and JSON values.

    Returns:
        The same structure made of dict, list, str, int, float, bool and None.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):
        return jsonable(np.asarray(obj).tolist())
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else str(f)
    if isinstance(obj, np.integer | np.bool_):
        return obj.item()
    return obj


def _decoded(obj):
    """The inverse of :func:`jsonable` for the non-finite floats."""
    if isinstance(obj, dict):
        return {k: _decoded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decoded(v) for v in obj]
    if isinstance(obj, str) and obj in _NONFINITE:
        return _NONFINITE[obj]
    return obj


def _curves_dict(c: Curves) -> dict:
    out = c.as_dict()
    if c.converged is not None:
        out["converged"] = np.asarray(c.converged).tolist()
    return out


def record_dict(record) -> dict:
    """A record as a JSON-ready dict with its ``"kind"``, for :func:`load`.

    Args:
        record: a :class:`rfdiff.Problem`, :class:`rfdiff.Curves`,
            :class:`rfdiff.Timescales`, :class:`rfdiff.CurveTimescales` or
            :class:`rfdiff.MemorisationStudy`.

    Returns:
        The dict (non-finite floats as strings).

    Raises:
        ValueError: for another type.
    """
    if isinstance(record, Problem):
        out = {"kind": "problem", **record.params()}
    elif isinstance(record, Curves):
        out = {"kind": "curves", **_curves_dict(record)}
    elif isinstance(record, Timescales):
        out = {"kind": "timescales", **record._asdict(), "curve": record.curve._asdict(),
               "notes": list(record.notes), "status": record.status.name}
    elif isinstance(record, CurveTimescales):
        out = {"kind": "curve_timescales", **record._asdict()}
    elif isinstance(record, MemorisationStudy):
        out = {"kind": "memorisation_study", **record.as_dict()}
    else:
        raise ValueError(f"record must be a Problem, Curves, Timescales, CurveTimescales or "
                         f"MemorisationStudy, got {type(record).__name__}")
    return jsonable(out)


def dumps(record) -> str:
    """:func:`record_dict` as standard JSON text (no ``Infinity`` or ``NaN`` tokens)."""
    return json.dumps(record_dict(record), allow_nan=False)


def _kind(d: dict) -> str:
    """The record kind of a dict: its ``"kind"``, or guessed from the CLI's shapes."""
    if "kind" in d:
        return d["kind"]
    if all(k in d for k in CURVE_KEYS):
        return "curves"  # rfdiff curves / simulate
    if all(k in d for k in ("tau_gen", "tau_mem", "curve", "parts")):
        return "timescales"  # rfdiff timescales
    if all(k in d for k in ("curves", "level", "exponents")):
        return "memorisation_study"
    if all(k in d for k in ("psi_p", "psi_n", "t", "activation", "sigma")):
        return "problem"  # a "parameters" block
    raise ValueError(f"cannot tell which record this is: keys {sorted(d)[:12]!r}; a saved "
                     "record has a 'kind' (rfdiff's record_dict), or the keys of a CLI "
                     "--json output")


def _problem(d):
    return Problem(d["psi_p"], d["psi_n"], d["t"], d["activation"], parse_spectrum(d["sigma"]),
                   ridge=d.get("ridge", 0.0), noise_samples=d.get("noise_samples", math.inf))


def _curves(d):
    arr = {k: np.asarray(d[k], dtype=float) for k in CURVE_KEYS}
    conv = d.get("converged")
    return Curves(**arr, converged=None if conv is None else np.asarray(conv, dtype=bool))


def _curve_timescales(d):
    return CurveTimescales(**{k: d[k] for k in CurveTimescales._fields})


def _timescales(d):
    curve = dict(d["curve"])
    curve.setdefault("definitions", "")  # the CLI leaves the definitions out of "curve"
    status = d.get("status", "SUCCESSFUL")
    return Timescales(d["tau_gen"], d["tau_mem"], d["parts"], _curve_timescales(curve),
                      d.get("definitions", ""), tuple(d.get("notes", ())),
                      Status[status] if isinstance(status, str) else Status(status),
                      d.get("local_exponents"))


def _study(d):
    from .tools import study_from_dict

    return study_from_dict(d)


_LOADERS = {"problem": _problem, "curves": _curves, "timescales": _timescales,
            "curve_timescales": _curve_timescales, "memorisation_study": _study}


def load(source):
    """Load a saved result back into its record.

    Args:
        source: a path to a JSON file (written by :func:`dumps` or by the CLI's
            ``--json``), or the decoded dict.

    Returns:
        The record: :class:`rfdiff.Problem` (from a ``parameters`` block),
        :class:`rfdiff.Curves` (``rfdiff curves`` / ``simulate``),
        :class:`rfdiff.Timescales` (``rfdiff timescales``), :class:`rfdiff.CurveTimescales`
        or :class:`rfdiff.MemorisationStudy`.

    Raises:
        ValueError: for a missing or unreadable file, text that is not JSON, or a dict
            that is no saved record (naming what is missing).
    """
    if isinstance(source, str | os.PathLike):
        try:
            with open(source, encoding="utf-8") as fh:
                source = json.load(fh)
        except OSError as err:
            raise ValueError(f"cannot read {os.fspath(source)!r}: "
                             f"{err.strerror or err}") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"{os.fspath(source)!r} is not JSON: {err}") from None
    if not isinstance(source, dict):
        raise ValueError(f"source must be a path or a dict, got {type(source).__name__}")
    d = _decoded(source)
    kind = _kind(d)
    if kind not in _LOADERS:
        raise ValueError(f"unknown record kind {kind!r}; known: {sorted(_LOADERS)}")
    try:
        return _LOADERS[kind](d)
    except KeyError as err:
        raise ValueError(f"not a saved {kind}: missing key {err}") from None
