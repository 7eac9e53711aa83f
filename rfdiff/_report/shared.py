"""Results shared by the sections of one report (finite-size draws, the scaling study)."""

from __future__ import annotations

import sys

__all__ = ["cached", "clear", "progress", "executor", "set_executor"]


def progress(msg, verbose):
    """One progress line on stderr when ``verbose``."""
    if verbose:
        print(f"[rfdiff report] {msg}", file=sys.stderr, flush=True)

_STORE: dict = {}
# the executor of the report being made (None: serial); set by make_report for its run
_EXECUTOR = [None]


def executor():
    """The ``concurrent.futures.Executor`` of the finite-size runs of this report, or None."""
    return _EXECUTOR[0]


def set_executor(value) -> None:
    """Set (or, with None, reset) the executor of the report being made."""
    _EXECUTOR[0] = value


def cached(key, build):
    """The value stored under ``key``, built by ``build()`` on first use."""
    if key not in _STORE:
        _STORE[key] = build()
    return _STORE[key]


def clear():
    """Forget every shared result (at the end of a report)."""
    _STORE.clear()
