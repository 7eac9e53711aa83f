"""Results shared by the sections of one report (finite-size draws, the scaling study)."""

from __future__ import annotations

import sys

__all__ = ["cached", "clear", "progress"]


def progress(msg, verbose):
    """One progress line on stderr when ``verbose``."""
    if verbose:
        print(f"[rfdiff report] {msg}", file=sys.stderr, flush=True)

_STORE: dict = {}


def cached(key, build):
    """The value stored under ``key``, built by ``build()`` on first use."""
    if key not in _STORE:
        _STORE[key] = build()
    return _STORE[key]


def clear():
    """Forget every shared result (at the end of a report)."""
    _STORE.clear()
