"""The numeric parameters of the Gaussian-equivalent U, as one pytree of float64 arrays.

Every solver of the one-point equations (the real-axis continuation behind the spectrum and
the fixed-schedule solves behind the learning curves) takes the same record,
:class:`SpectralParams`, so that a single compiled function serves every parameter set
(and can be vmapped over a batch of them). The activation enters only through the
Gaussian-equivalence constants.

The number m of noise samples per training point enters through μ = 1/m
(:attr:`SpectralParams.inv_m`). ``None``, the default, is the noise-averaged model m = ∞ of
THEORY.md §4, whose equations have the two unknowns (q, r); with μ given (μ = 0 included)
the equations of the m-sample model have the three unknowns (q, r, s) (docs/theory.md,
"Finitely many noise samples"). The two kinds of records have different tree structures,
so they are compiled separately and a batch cannot mix them.
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
           "as_params", "spectral_bound", "mean_eigenvalue", "kappa", "require_noise_averaged"]


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
        inv_m: μ = 1/m ∈ [0, 1], the inverse number of noise samples per training point
            (a scalar), or ``None`` (default): the noise-averaged model m = ∞.
    """

    psi_p: jax.Array
    psi_n: jax.Array
    A: jax.Array
    b2: jax.Array
    v2: jax.Array
    s2: jax.Array
    atoms: jax.Array
    weights: jax.Array
    inv_m: jax.Array | None = None

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
    m = problem.noise_samples
    return SpectralParams(
        psi_p=f(problem.psi_p), psi_n=f(problem.psi_n),
        A=f(float(c.a) ** 2 * math.exp(-2.0 * problem.t)), b2=f(float(c.b) ** 2),
        v2=f(float(c.v2)), s2=f(float(c.s2)),
        atoms=f(problem.spectrum.atoms), weights=f(problem.spectrum.weights),
        inv_m=None if math.isinf(m) else f(1.0 / m))


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
        if name == "inv_m" and v is None:
            vals[name] = None
            continue
        arr = np.asarray(v, dtype=float)
        label = "a2" if name == "A" else name
        if name == "inv_m":
            if arr.shape != () or not 0.0 <= arr <= 1.0:
                raise ValueError(f"inv_m must be None or a scalar in [0, 1] (1/m for m "
                                 f"noise samples), got {v!r}")
        elif name in ("psi_p", "psi_n"):
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
    return SpectralParams(**{k: None if v is None else jnp.asarray(v, jnp.float64)
                             for k, v in vals.items()})


def require_noise_averaged(P, what: str) -> None:
    """Refuse a finite number of noise samples where only the m = ∞ model is derived.

    For :class:`SpectralParams` a static test (``inv_m`` is ``None`` or not is part of the
    tree structure), so it also works at trace time inside jit-compiled code.

    Args:
        P: a :class:`Problem` or :class:`SpectralParams`.
        what: the name of the refused computation, for the message.

    Raises:
        NotImplementedError: for ``noise_samples`` < ∞ (``inv_m`` given), naming ``what``.
    """
    finite = (not math.isinf(P.noise_samples) if isinstance(P, Problem)
              else P.inv_m is not None)
    if finite:
        raise NotImplementedError(
            f"{what}: derived only for the noise-averaged model (noise_samples = inf); with "
            "finitely many noise samples only the one-point quantities (the spectrum: "
            "density, q, r, s) are available")


def kappa(P: SpectralParams):
    """κ = E_Σ[λ] = Tr Σ/d (a JAX scalar)."""
    return jnp.sum(P.weights * P.atoms, axis=-1)


def mean_eigenvalue(P: SpectralParams):
    """(1/p) Tr U = s² + b² (1/p)Tr W̃W̃ᵀ + (1/p)Tr GGᵀ/n = s² + b² + v² + A κ (any m: each
    noise sample has the same second moment)."""
    return P.s2 + P.b2 + P.v2 + P.A * kappa(P)


def spectral_bound(P: SpectralParams):
    """An upper bound of the limiting spectrum of U (sum of asymptotic operator norms).

    m = ∞: U = GGᵀ/n + C_e with C_e = b_t²W̃W̃ᵀ + s_t²I, so ‖U‖ ≤ (‖signal‖ + ‖noise‖)² + c_e,
    c_e = s_t² + b_t²(√ψ_p + 1)² ≥ ‖C_e‖. With m noise samples (μ = 1/m) U_m is the sum of
    (1/n)YYᵀ, Y = G + Ē with Ē of covariance C_e/m, and (1/(nm))ΦΦᵀ with n(m − 1) columns of
    covariance C_e (docs/theory.md), so ‖U_m‖ ≤ (‖signal‖ + ‖noise‖ + √(μc_e)(1 +
    √(ψ_p/ψ_n)))² + c_e (√(1 − μ) + √(μψ_p/ψ_n))², which at μ = 0 is the m = ∞ bound (to
    the bit: the extra terms are exact zeros and ones). U_m is also the Gram matrix of the
    nm columns g_ν + e_νj, so ‖U_m‖ ≤ (‖signal‖ + ‖noise‖ + ‖E‖/√(nm))² with
    E = b_tW̃Ξ + s_tZ (Ξ: d × nm, Z: p × nm, standard Gaussian) and ‖E‖/√(nm) ≤
    b_t(√ψ_p + 1)(1 + √(μ/ψ_n)) + s_t(1 + √(μψ_p/ψ_n)), tighter for small m; the smaller
    of the two is returned.

    Args:
        P: the parameters (may be traced).

    Returns:
        The bound, a JAX scalar.
    """
    lam_max = jnp.max(jnp.where(P.weights > 0, P.atoms, 0.0))
    sp = jnp.sqrt(P.psi_p)
    signal = jnp.sqrt(P.A * lam_max) * (sp + 1.0) * (1.0 + 1.0 / jnp.sqrt(P.psi_n))
    noise = jnp.sqrt(P.v2) * (jnp.sqrt(P.psi_p / P.psi_n) + 1.0)
    if P.inv_m is None:
        return P.s2 + (signal + noise) ** 2 + P.b2 * (sp + 1.0) ** 2
    mu = P.inv_m
    c_e = P.s2 + P.b2 * (sp + 1.0) ** 2
    mean = jnp.sqrt(mu * c_e) * (1.0 + jnp.sqrt(P.psi_p / P.psi_n))
    spread = (jnp.sqrt(1.0 - mu) + jnp.sqrt(mu * P.psi_p / P.psi_n)) ** 2
    split = P.s2 * spread + (signal + noise + mean) ** 2 + P.b2 * (sp + 1.0) ** 2 * spread
    columns = (jnp.sqrt(P.b2) * (sp + 1.0) * (1.0 + jnp.sqrt(mu / P.psi_n))
               + jnp.sqrt(P.s2) * (1.0 + jnp.sqrt(mu * P.psi_p / P.psi_n)))
    return jnp.minimum(split, (signal + noise + columns) ** 2)
