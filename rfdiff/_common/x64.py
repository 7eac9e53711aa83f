"""Float64 evaluation without touching JAX's global configuration.

Every public entry point of rfdiff is wrapped by :func:`float64`, which runs the call
inside ``jax.enable_x64(True)`` (a thread-local context) and returns its arrays as NumPy
float64 arrays. Returning NumPy matters: arithmetic on a JAX float64 array *outside* the
context is silently carried out in float32, whereas NumPy arrays keep their precision in
the user's code. The user's own JAX code keeps whatever precision setting it had. The
jit-able cores (the functions named ``compute_*`` or ``*_core``) return JAX arrays for use
inside the user's own transformations, which then need x64 enabled by the user.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import numpy as np

__all__ = ["float64", "to_numpy"]


def to_numpy(obj):
    """Convert JAX arrays inside ``obj`` (arrays, tuples, NamedTuples, dicts, lists and
    frozen dataclasses, recursively) to NumPy arrays."""
    if isinstance(obj, jax.Array):
        return np.asarray(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for f in dataclasses.fields(obj):
            old = getattr(obj, f.name)
            new = to_numpy(old)
            if f.init and new is not old:
                changes[f.name] = new
        return dataclasses.replace(obj, **changes) if changes else obj
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(to_numpy(v) for v in obj))
    if isinstance(obj, tuple | list):
        return type(obj)(to_numpy(v) for v in obj)
    if isinstance(obj, dict):
        return {k: to_numpy(v) for k, v in obj.items()}
    return obj


def float64(fn):
    """Decorate ``fn`` so that it runs with 64-bit JAX types enabled locally and returns
    NumPy float64 arrays."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return to_numpy(fn(*args, **kwargs))

    return wrapper
