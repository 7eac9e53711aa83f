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
    """

    name: str
    fn: Callable
    kinks: tuple[float, ...] = ()

    def __call__(self, x):
        return self.fn(x)

    def derivative(self, x):
        """σ'(x) elementwise, by automatic differentiation."""
        return jnp.vectorize(jax.grad(self.fn))(x)


def _gelu(x):
    # exact (erf) form, not the tanh approximation
    return 0.5 * x * (1.0 + jsp.erf(x / jnp.sqrt(2.0)))


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", jnp.tanh),
    "relu": Activation("relu", lambda x: jnp.maximum(x, 0.0), kinks=(0.0,)),
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
