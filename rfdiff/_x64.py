"""Float64 evaluation without touching JAX's global configuration.

Every public entry point of rfdiff is wrapped by :func:`float64`, which runs the call
inside ``jax.enable_x64(True)`` (a thread-local context). Results are float64 arrays,
while the user's own JAX code keeps whatever precision setting it had.
"""

from __future__ import annotations

import functools

import jax

__all__ = ["float64"]


def float64(fn):
    """Decorate ``fn`` so that it runs with 64-bit JAX types enabled locally."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper
