"""Argument checks shared by the public functions: clear errors naming argument and value."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

__all__ = ["positive", "nonnegative", "finite", "positive_int", "seed_int"]


def _not_a_number(value) -> bool:
    # float() would accept True ("1.0") and "16" (16.0), and silently drop the imaginary
    # part of a NumPy complex: refuse those before converting. Arrays and NumPy scalars
    # are judged by their dtype (booleans, strings, complex and objects are refused).
    if isinstance(value, bool | np.bool_ | str | bytes):
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and getattr(dtype, "kind", None) not in ("i", "u", "f")


def finite(name: str, value) -> float:
    """Return ``value`` as a float, or raise ValueError if it is not a finite real number.

    Python ints and floats, NumPy integer and float scalars and 0-d arrays are accepted;
    booleans, strings and complex numbers are not.
    """
    if _not_a_number(value):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if not isinstance(value, Real):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a real number, got {value!r}") from None
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def positive(name: str, value) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is finite and > 0."""
    value = finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def nonnegative(name: str, value) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is finite and >= 0."""
    value = finite(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def positive_int(name: str, value) -> int:
    """Return ``value`` as an int, or raise ValueError unless it is an integer >= 1."""
    if _not_a_number(value):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    try:
        as_int = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive integer, got {value!r}") from None
    if as_int != value or as_int < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return as_int


# jax.random.PRNGKey takes a signed 64-bit integer
_SEED_MIN, _SEED_MAX = -2**63, 2**63 - 1


def seed_int(name: str, value) -> int:
    """Return ``value`` as an int, or raise ValueError unless it is an integer seed that
    fits a signed 64-bit integer (the range of ``jax.random.PRNGKey``).

    Python and NumPy integers are accepted; booleans, strings and floats (even 3.0: a
    seed is a label, not a quantity) are not.
    """
    dtype = getattr(value, "dtype", None)
    integral = isinstance(value, int | np.integer) or (
        dtype is not None and dtype.kind in "iu" and np.ndim(value) == 0)  # a JAX scalar
    if isinstance(value, bool | np.bool_) or not integral:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if not _SEED_MIN <= value <= _SEED_MAX:
        raise ValueError(f"{name} must be an integer in [-2**63, 2**63 - 1], got {value!r}")
    return value
