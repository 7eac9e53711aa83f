"""Activation functions by name, or any JAX-differentiable callable."""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

__all__ = ["Activation", "activation", "ACTIVATIONS"]


@dataclasses.dataclass(frozen=True)
class Activation:
    """An elementwise activation σ.

    Attributes:
        name: label used in outputs and plots.
        fn: elementwise JAX function ``x -> σ(x)``.
        kinks: points where σ is not smooth. Gaussian expectations are split there so
            that quadrature keeps spectral accuracy (Gauss–Hermite alone converges only
            algebraically across a kink).
        hermite_moments: optional closed form ``(mean, std, kmax) -> (c, second, dmean)``
            of the normalised Hermite coefficients c_k = E[h_k(u) σ(mean + std·u)]
            (k = 0..kmax, stacked on a leading axis), E σ² and E σ'. When given, the
            finite-size matrices use it instead of quadrature.
    """

    name: str
    fn: Callable
    kinks: tuple[float, ...] = ()
    hermite_moments: Callable | None = dataclasses.field(default=None, compare=False)

    def __call__(self, x):
        return self.fn(x)

    def derivative(self, x):
        """σ'(x) elementwise, by automatic differentiation."""
        return jnp.vectorize(jax.grad(self.fn))(x)


def _gelu(x):
    # exact (erf) form, not the tanh approximation
    return 0.5 * x * (1.0 + jsp.erf(x / jnp.sqrt(2.0)))


def _relu_hermite(mean, std, kmax):
    # E[He_k(u) relu(m + ςu)] = ς φ(α) He_{k−2}(−α) for k ≥ 2 (α = m/ς), by integrating
    # by parts twice; normalised by √k! this is ς φ(α) h_{k−2}(−α)/√(k(k−1)).
    alpha = mean / std
    cdf = jsp.ndtr(alpha)
    pdf = jnp.exp(-0.5 * alpha**2) / jnp.sqrt(2 * jnp.pi)
    coeffs = [mean * cdf + std * pdf, std * cdf]
    h_prev, h_cur = jnp.zeros_like(alpha), jnp.ones_like(alpha)  # h_{-1}, h_0 at −α
    for k in range(2, kmax + 1):
        coeffs.append(std * pdf * h_cur / jnp.sqrt(k * (k - 1.0)))
        j = k - 2  # advance h_j → h_{j+1} at −α
        h_prev, h_cur = h_cur, (-alpha * h_cur - jnp.sqrt(float(j)) * h_prev) / jnp.sqrt(j + 1.0)
    second = (mean**2 + std**2) * cdf + mean * std * pdf
    return jnp.stack(coeffs[: kmax + 1]), second, cdf


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", jnp.tanh),
    "relu": Activation("relu", lambda x: jnp.maximum(x, 0.0), kinks=(0.0,),
                       hermite_moments=_relu_hermite),
    "erf": Activation("erf", jsp.erf),
    "linear": Activation("linear", lambda x: x),
    "gelu": Activation("gelu", _gelu),
}


def activation(spec) -> Activation:
    """Resolve an activation given by name, as an :class:`Activation`, or as a callable.

    Args:
        spec: one of ``"tanh"``, ``"relu"``, ``"erf"``, ``"linear"``, ``"gelu"``; an
            :class:`Activation`; or a JAX-differentiable elementwise callable (assumed
            smooth; wrap it in :class:`Activation` with ``kinks`` if it is not).

    Returns:
        The :class:`Activation`.

    Raises:
        ValueError: for an unknown name or an object that is not callable.
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        try:
            return ACTIVATIONS[spec.lower()]
        except KeyError:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)} or a callable, got {spec!r}"
            ) from None
    if callable(spec):
        return Activation(getattr(spec, "__name__", "custom"), spec)
    raise ValueError(f"activation must be a name or a callable, got {spec!r}")
