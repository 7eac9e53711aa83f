"""The numeric parameters of the Gaussian-equivalent U, as one pytree of float64 arrays.

Every solver of the one-point equations (the real-axis continuation behind the spectrum and
the fixed-schedule solves behind the learning curves) takes the same record,
:class:`SpectralParams`, so that a single compiled function serves every parameter set
(and can be vmapped over a batch of them). The activation enters only through the
Gaussian-equivalence constants.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._common.x64 import float64
from .._model.problem import Problem

__all__ = ["SpectralParams", "ResolventParams", "spectral_params", "resolvent_params",
           "as_params", "spectral_bound", "mean_eigenvalue", "kappa"]


class SpectralParams(NamedTuple):
    """Numeric parameters of the Gaussian-equivalent U (a pytree of float64 arrays).

    Attributes:
        psi_p: ψ_p = p/d.
        psi_n: ψ_n = n/d (``inf``: the population limit, D = 1).
        A: a_t² e^{−2t}, the coefficient of the data part of the feature covariance.
        b2: b_t².
        v2: v_t².
        s2: s_t² (location of the atom of U).
        atoms: atoms of ρ_Σ, shape (K,); padding atoms of weight 0 are allowed (they let
            parameter sets with different K share one shape).
        weights: their weights, shape (K,).
    """

    psi_p: jax.Array
    psi_n: jax.Array
    A: jax.Array
    b2: jax.Array
    v2: jax.Array
    s2: jax.Array
    atoms: jax.Array
    weights: jax.Array

    @property
    def a2(self) -> jax.Array:
        """The same coefficient as :attr:`A` (the name used by :class:`ResolventParams`)."""
        return self.A


class _ResolventParamsType(type):
    """Makes :class:`ResolventParams` a constructor of, and a type test for, SpectralParams."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, SpectralParams)

    def __call__(cls, psi_p, psi_n, a2, b2, v2, s2, atoms, weights) -> SpectralParams:
        return SpectralParams(psi_p, psi_n, a2, b2, v2, s2, atoms, weights)


class ResolventParams(metaclass=_ResolventParamsType):
    """:class:`SpectralParams` under its earlier name, with the field ``a2`` for ``A``.

    ``ResolventParams(psi_p, psi_n, a2, b2, v2, s2, atoms, weights)`` (positional or by
    keyword) returns a :class:`SpectralParams`; ``isinstance(x, ResolventParams)`` is true
    for every :class:`SpectralParams`, and ``x.a2`` reads ``x.A``.
    """


@float64
def spectral_params(problem: Problem) -> SpectralParams:
    """Collect the numeric parameters of a :class:`Problem`.

    Args:
        problem: the model.

    Returns:
        :class:`SpectralParams` (float64 arrays).

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem`.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    c = problem.coefficients
    f = functools.partial(jnp.asarray, dtype=jnp.float64)
    return SpectralParams(
        psi_p=f(problem.psi_p), psi_n=f(problem.psi_n),
        A=f(float(c.a) ** 2 * math.exp(-2.0 * problem.t)), b2=f(float(c.b) ** 2),
        v2=f(float(c.v2)), s2=f(float(c.s2)),
        atoms=f(problem.spectrum.atoms), weights=f(problem.spectrum.weights))


#: The earlier name of :func:`spectral_params`.
resolvent_params = spectral_params


@float64
def as_params(problem) -> SpectralParams:
    """Accept a :class:`Problem` or :class:`SpectralParams` (checked, as float64 arrays).

    Args:
        problem: the model, or its parameters.

    Returns:
        :class:`SpectralParams`.

    Raises:
        ValueError: for any other object, or parameters that are not finite, ψ ≤ 0,
            negative constants, or atoms/weights of different shapes.
    """
    if isinstance(problem, Problem):
        return spectral_params(problem)
    if not isinstance(problem, SpectralParams):
        raise ValueError("problem must be a rfdiff.Problem or ResolventParams, "
                         f"got {problem!r}")
    vals = {}
    for name, v in problem._asdict().items():
        arr = np.asarray(v, dtype=float)
        label = "a2" if name == "A" else name
        if name in ("psi_p", "psi_n"):
            # ψ_n = inf is allowed: it is the population limit (D = 1)
            if arr.shape != () or not arr > 0 or np.isnan(arr) or (name == "psi_p"
                                                                 and np.isinf(arr)):
                raise ValueError(f"{label} must be a positive scalar, got {v!r}")
        elif name in ("A", "b2", "v2", "s2"):
            if arr.shape != () or not np.isfinite(arr) or arr < 0:
                raise ValueError(f"{label} must be a finite scalar >= 0, got {v!r}")
        vals[name] = arr
    atoms, weights = vals["atoms"].ravel(), vals["weights"].ravel()
    if atoms.shape != weights.shape or atoms.size == 0:
        raise ValueError(f"atoms and weights must be non-empty arrays of one shape, got "
                         f"{atoms.shape} and {weights.shape}")
    if np.any(~np.isfinite(atoms)) or np.any(atoms <= 0):
        raise ValueError(f"atoms must be finite and > 0, got {atoms!r}")
    if np.any(~np.isfinite(weights)) or np.any(weights < 0) or abs(weights.sum() - 1) > 1e-12:
        raise ValueError(f"weights must be >= 0 and sum to 1, got {weights!r}")
    vals["atoms"], vals["weights"] = atoms, weights
    return SpectralParams(**{k: jnp.asarray(v, jnp.float64) for k, v in vals.items()})


def kappa(P: SpectralParams):
    """κ = E_Σ[λ] = Tr Σ/d (a JAX scalar)."""
    return jnp.sum(P.weights * P.atoms, axis=-1)


def mean_eigenvalue(P: SpectralParams):
    """(1/p) Tr U = s² + b² (1/p)Tr W̃W̃ᵀ + (1/p)Tr GGᵀ/n = s² + b² + v² + A κ."""
    return P.s2 + P.b2 + P.v2 + P.A * kappa(P)


def spectral_bound(P: SpectralParams):
    """An upper bound of the limiting spectrum of U (sum of asymptotic operator norms).

    Args:
        P: the parameters (may be traced).

    Returns:
        s_t² + (‖signal‖ + ‖noise‖)² + b_t²(√ψ_p + 1)², a JAX scalar.
    """
    lam_max = jnp.max(jnp.where(P.weights > 0, P.atoms, 0.0))
    sp = jnp.sqrt(P.psi_p)
    signal = jnp.sqrt(P.A * lam_max) * (sp + 1.0) * (1.0 + 1.0 / jnp.sqrt(P.psi_n))
    noise = jnp.sqrt(P.v2) * (jnp.sqrt(P.psi_p / P.psi_n) + 1.0)
    return P.s2 + (signal + noise) ** 2 + P.b2 * (sp + 1.0) ** 2
