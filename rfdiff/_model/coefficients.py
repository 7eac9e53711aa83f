"""Gaussian-equivalence constants μ₀, a_t, b_t, v_t², s_t² (THEORY.md §3).

With u, v, z independent N(0, 1), c = e^{−t}√κ, Δ_t = 1 − e^{−2t}, Γ² = c² + Δ_t:

- μ₀ = E σ(Γz)
- a_t = E[σ(Γz) z]/Γ  (= E σ'(Γz) by Stein's lemma; this form needs no derivative)
- b_t = √Δ_t a_t
- v_t² = E_u[(E_v σ(cu + √Δ_t v))²] − μ₀² − a_t² c²   (noise-averaged nonlinear part)
       = E_u[(E_v σ(cu + √Δ_t v) − μ₀ − a_t c u)²]
- s_t² = E σ(Γz)² − μ₀² − a_t² c² − v_t² − b_t²       (noise-dependent nonlinear part)
       = E_u E_v[(σ(cu + √Δ_t v) − E_v σ(cu + √Δ_t v) − b_t v)²]

The preactivation variance is κ = Tr Σ/d (not κ²).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .activations import activation as _activation
from .quadrature import nodes_and_weights
from .data_spectrum import DataSpectrum, isotropic
from .._common.validation import positive, positive_int
from .._common.x64 import float64

__all__ = ["Coefficients", "coefficients", "compute_coefficients"]


class Coefficients(NamedTuple):
    """Gaussian-equivalence constants at one diffusion time (a JAX pytree of scalars).

    Attributes:
        mu0: μ₀ = E σ(Γz).
        a: a_t, the linear coefficient of σ along the clean signal.
        b: b_t = √Δ_t a_t, the linear coefficient along the noise.
        v2: v_t², the noise-averaged nonlinear variance.
        s2: s_t², the noise-dependent nonlinear variance.
        kappa: κ = Tr Σ / d.
        delta: Δ_t = 1 − e^{−2t}.
        t: diffusion time.
    """

    mu0: jax.Array
    a: jax.Array
    b: jax.Array
    v2: jax.Array
    s2: jax.Array
    kappa: jax.Array
    delta: jax.Array
    t: jax.Array

    def as_dict(self) -> dict[str, float]:
        """Plain floats keyed as in the CLI's JSON output."""
        return {k: float(v) for k, v in self._asdict().items()}


def _gauss_mean(act, mean, std, f, degree):
    u, w = nodes_and_weights(mean, std, act.kinks, degree)
    return jnp.sum(w * f(u, act(mean[..., None] + std * u)), axis=-1)


def compute_coefficients(act, t, kappa, degree: int = 300) -> Coefficients:
    """Jit-able core of :func:`coefficients` (``act`` static, ``t`` and ``kappa`` traced)."""
    t = jnp.asarray(t, jnp.float64)
    kappa = jnp.asarray(kappa, jnp.float64)
    delta = -jnp.expm1(-2.0 * t)
    c = jnp.exp(-t) * jnp.sqrt(kappa)
    gamma = jnp.sqrt(c**2 + delta)
    zero = jnp.zeros(())
    mu0 = _gauss_mean(act, zero, gamma, lambda u, s: s, degree)
    a = _gauss_mean(act, zero, gamma, lambda u, s: s * u, degree) / gamma
    b = jnp.sqrt(delta) * a
    # Two-dimensional average over signal u (outer) and noise v (inner). The outer
    # integrand is a Gaussian convolution of σ, smooth but with a near-kink of width
    # √Δ/c at the kinks when t is small, so the outer rule is split there too.
    # v² and s² are computed as averages of squared residuals rather than as differences
    # of second moments, which would cancel catastrophically at small t.
    uo, wo = nodes_and_weights(zero, c, act.kinks, degree)
    vi, wi = nodes_and_weights(c * uo, jnp.sqrt(delta), act.kinks, degree)
    sig = act(c * uo[:, None] + jnp.sqrt(delta) * vi)
    inner = jnp.sum(wi * sig, axis=-1)
    v2 = jnp.sum(wo * (inner - mu0 - a * c * uo) ** 2)
    s2 = jnp.sum(wo * jnp.sum(wi * (sig - inner[:, None] - b * vi) ** 2, axis=-1))
    return Coefficients(mu0, a, b, v2, s2, kappa, delta, t)


@float64
def coefficients(activation="tanh", t=0.1, spectrum: DataSpectrum | None = None,
                 degree: int = 300) -> Coefficients:
    """Gaussian-equivalence constants of an activation at diffusion time t.

    Args:
        activation: name (``tanh``, ``relu``, ``erf``, ``linear``, ``gelu``) or callable.
        t: diffusion time (> 0).
        spectrum: data spectrum ρ_Σ (default isotropic); only κ = Tr Σ/d enters.
        degree: quadrature degree (Gauss–Hermite, or Gauss–Legendre per panel for
            activations with kinks). The default gives relative error below 1e-12 for
            smooth activations and below 1e-10 for relu (tests/test_coefficients.py).

    Returns:
        :class:`Coefficients`.

    Raises:
        ValueError: for t ≤ 0 or non-finite, a ``degree`` that is not a positive
            integer, or an unknown activation, naming the argument and the value.
    """
    t = positive("t", t)
    degree = positive_int("degree", degree)
    act = _activation(activation)
    spectrum = isotropic() if spectrum is None else spectrum
    return _jitted(act, degree)(t, spectrum.kappa)


_CACHE: dict = {}


def _jitted(act, degree):
    key = (act, degree)
    if key not in _CACHE:
        _CACHE[key] = jax.jit(lambda t, kappa: compute_coefficients(act, t, kappa, degree))
    return _CACHE[key]
