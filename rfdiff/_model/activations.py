"""Activation functions by name, or any JAX-differentiable callable."""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .._common.validation import finite

__all__ = ["Activation", "activation", "ACTIVATIONS"]


@dataclasses.dataclass(frozen=True)
class Activation:
    """An elementwise activation σ.

    Built from a callable, the activation is probed once on a small float64 array (the
    activations shipped in :data:`ACTIVATIONS` are not), so that a function that cannot
    serve as σ is refused here rather than giving NaN or a JAX-internal error later.

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

    Raises:
        ValueError: if ``fn`` is not callable, fails on a traced float64 array, returns an
            array of another shape or non-finite values there (naming the activation), or
            if ``kinks`` are not finite real numbers (naming ``kinks`` and the value).
    """

    name: str
    fn: Callable
    kinks: tuple[float, ...] = ()
    hermite_moments: Callable | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "kinks", _checked_kinks(self.kinks))
        if self.hermite_moments is not None and not callable(self.hermite_moments):
            raise ValueError(f"hermite_moments must be callable or None, "
                             f"got {self.hermite_moments!r}")
        if not any(self.fn is f for f in _BUILTIN_FNS):
            _probe(self.name, self.fn)

    def __reduce_ex__(self, protocol):
        # a shipped activation travels by name (its JAX function does not pickle by
        # reference); any other pickles field by field, as far as its callables do
        if ACTIVATIONS.get(self.name) is self:
            return activation, (self.name,)
        return super().__reduce_ex__(protocol)

    def __call__(self, x):
        return self.fn(x)

    def __reduce__(self):
        # a shipped activation pickles by name (JAX's tanh and erf are not importable
        # under their own names, so pickle cannot find them); a custom one pickles its
        # fields, which works for module-level functions (not for lambdas)
        shipped = ACTIVATIONS.get(self.name)
        if shipped is not None and shipped == self:
            return activation, (self.name,)
        return Activation, (self.name, self.fn, self.kinks, self.hermite_moments)

    def derivative(self, x):
        """σ'(x) elementwise, by automatic differentiation."""
        return jnp.vectorize(jax.grad(self.fn))(x)


def _checked_kinks(kinks) -> tuple[float, ...]:
    # A tuple of plain floats keeps the activation hashable (it keys the jit caches) and
    # lets the quadrature sort and subtract the kinks.
    message = f"kinks must be a sequence of finite real numbers, got {kinks!r}"
    if isinstance(kinks, str | bytes):
        raise ValueError(message)
    try:
        return tuple(finite("kinks", k) for k in kinks)
    except (TypeError, ValueError):
        raise ValueError(message) from None


# Points where a candidate σ is tried: a 2-D array (σ must keep any shape), away from the
# origin so that a removable singularity there is not mistaken for a defect.
_PROBE_SHAPE = (3, 4)


def _probe(name, fn):
    """Refuse ``fn`` unless it maps a traced float64 array to finite values of its shape."""
    hint = (f"activation {name!r} is not usable: activations must be elementwise "
            f"JAX-traceable functions, e.g. jnp.tanh")
    if not callable(fn):
        raise ValueError(f"{hint}; got the non-callable {fn!r}")
    with jax.enable_x64(True):
        x = jnp.linspace(-3.0, 3.0, int(np.prod(_PROBE_SHAPE))).reshape(_PROBE_SHAPE)
        try:
            # Tracing (not only calling) catches NumPy functions, which work on concrete
            # arrays but not inside jit or grad, where σ is used.
            shape = jax.eval_shape(lambda v: fn(v), x).shape
            ok = bool(jnp.all(jnp.isfinite(fn(x)))) if shape == x.shape else True
        except Exception as err:  # any failure of user code: report it on one line
            first = (str(err).strip().splitlines() or [""])[0][:160]
            raise ValueError(f"{hint}; calling it on a float64 array of shape "
                             f"{x.shape} failed with {type(err).__name__}: {first}") from err
    if shape != x.shape:
        raise ValueError(f"{hint}; on an input of shape {x.shape} it returned shape {shape}")
    if not ok:
        raise ValueError(f"{hint}; it returned non-finite values on finite inputs in [-3, 3]")


def _relu(x):
    return jnp.maximum(x, 0.0)


def _linear(x):
    return x


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


# The shipped activations are known to be valid: they skip the probe, which keeps
# importing rfdiff free of JAX computations.
_BUILTIN_FNS = (jnp.tanh, _relu, jsp.erf, _linear, _gelu)

ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", jnp.tanh),
    "relu": Activation("relu", _relu, kinks=(0.0,),
                       hermite_moments=_relu_hermite),
    "erf": Activation("erf", jsp.erf),
    "linear": Activation("linear", _linear),
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
        ValueError: for an unknown name, an object that is not callable, or a callable
            that is not an elementwise JAX-traceable function (see :class:`Activation`).
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
