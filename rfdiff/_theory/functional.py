"""The functional core: pure functions of one parameter pytree, under jit, vmap and grad.

:func:`params` builds a :class:`Params` pytree whose leaves are ψ_p, ψ_n, t and the atoms
and weights of ρ_Σ (float64 arrays; any leading batch shape), the activation being static
(part of the tree structure, so one compiled function serves every numeric value). The
functions here

- :func:`coefficients` (Gaussian-equivalence constants, by quadrature in t and κ),
- :func:`density` (ρ(λ) of U, by the real-axis continuation),
- :func:`curves` (the learning curves on a τ grid, τ = ∞ allowed, by the Talbot contour),

are pure and traceable: ``jax.jit``, ``jax.vmap`` over any leaf, and forward and reverse
derivatives with respect to every leaf. Derivatives through the one-point solves come from
the implicit-function theorem (:func:`rfdiff._theory.onepoint.at_root`), never from the
iterations; the coefficients are differentiated through the quadrature (whose nodes move
with t at the kinks of σ, which the rule follows). The spectrum's edges are in
:mod:`rfdiff._spectrum.implicit_edges`.

Precision: these functions need 64-bit JAX types and raise :class:`RuntimeError` otherwise
(importing rfdiff changes no JAX setting; enable them with ``jax.enable_x64(True)`` around
the call, or ``jax.config.update("jax_enable_x64", True)`` in a notebook).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._common import Curves
from .._model import Activation, Coefficients, activation as _resolve_activation
from .._model import compute_coefficients
from .._model.problem import check_noise_samples
from .curves import DEFAULT_NODES, curves_core, loss_constants_core, talbot_contour
from .params import SpectralParams, spectral_bound
from .resolvent import resolvent_core

__all__ = ["Params", "params", "check_params", "coefficients", "spectral", "density",
           "curves", "require_x64", "EPS_REL"]

#: Final Im z of the density, relative to the spectral bound (as :func:`rfdiff.spectral_density`).
EPS_REL = 1e-10

_X64_HINT = ("rfdiff.core needs 64-bit JAX types: call it inside `with jax.enable_x64(True):` "
             "or run `jax.config.update('jax_enable_x64', True)` first (importing rfdiff "
             "changes no JAX setting)")


def require_x64() -> None:
    """Raise :class:`RuntimeError` unless 64-bit JAX types are enabled here (at trace time).

    Raises:
        RuntimeError: with the two ways of enabling them.
    """
    if jnp.zeros((), jnp.float64).dtype != np.float64:
        raise RuntimeError(_X64_HINT)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Params:
    """Parameters of the functional core (a pytree; the activation is static).

    Attributes:
        psi_p: ψ_p = p/d.
        psi_n: ψ_n = n/d (``inf``: the population limit).
        t: diffusion time.
        atoms: atoms of ρ_Σ, last axis K.
        weights: their weights (sum 1 along the last axis).
        activation: the :class:`rfdiff.Activation` (static: not a leaf).
        inv_m: μ = 1/m for m noise samples per training point (a leaf), or None (default):
            the noise-averaged model m = ∞; :func:`density` and :func:`curves` accept
            both (the curves of the m-sample model: :mod:`rfdiff._theory.noise_samples`).
    """

    psi_p: jax.Array
    psi_n: jax.Array
    t: jax.Array
    atoms: jax.Array
    weights: jax.Array
    activation: Activation = dataclasses.field(metadata=dict(static=True))
    inv_m: jax.Array | None = None

    def replace(self, **changes) -> Params:
        """A copy with some leaves replaced (no checks: for use under transformations)."""
        return dataclasses.replace(self, **changes)


def _concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _check(name, arr, *, allow_inf=False, zero_ok=False):
    if not _concrete(arr):
        return
    a = np.asarray(arr)
    bad = np.isnan(a) | (a < 0 if zero_ok else a <= 0) | (np.isinf(a) & (not allow_inf))
    if np.any(bad):
        raise ValueError(f"{name} must be {'>= 0' if zero_ok else '> 0'}"
                         f"{'' if allow_inf else ' and finite'}, got {a[bad].ravel()[0]!r}")


def _leaf(name, value):
    if isinstance(value, bool | str) or (isinstance(value, np.ndarray | np.generic)
                                         and value.dtype.kind in "bUSO"):
        raise ValueError(f"{name} must be a real number or array, got {value!r}")
    try:
        arr = jnp.asarray(value, dtype=jnp.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number or array, got {value!r}") from None
    if _concrete(value) and np.iscomplexobj(np.asarray(value)):
        raise ValueError(f"{name} must be real, got {value!r}")
    return arr


def params(psi_p, psi_n, t, activation="tanh", atoms=(1.0,), weights=(1.0,), *,
           noise_samples=math.inf) -> Params:
    """Build the parameter pytree of the functional core.

    Args:
        psi_p: ψ_p = p/d (> 0, finite); a scalar or an array of any batch shape.
        psi_n: ψ_n = n/d (> 0; ``inf`` allowed: the population limit).
        t: diffusion time (> 0, finite).
        activation: name (``tanh``, ``relu``, ``erf``, ``linear``, ``gelu``), an
            :class:`rfdiff.Activation` or an elementwise JAX callable (static).
        atoms: atoms of ρ_Σ (> 0), last axis K (default isotropic).
        weights: their weights (≥ 0, summing to 1 along the last axis).
        noise_samples: m, noise draws per training point (a positive integer, or inf:
            the default noise-averaged model); stored as the leaf ``inv_m`` = 1/m.

    Returns:
        :class:`Params` (float64 leaves). Concrete values are checked; traced values (inside
        jit/vmap/grad) are taken as they are.

    Raises:
        ValueError: for a bad value, naming the argument and the value.
        RuntimeError: when 64-bit JAX types are not enabled.
    """
    require_x64()
    act = _resolve_activation(activation)
    psi_p, psi_n, t = (_leaf(n, v) for n, v in (("psi_p", psi_p), ("psi_n", psi_n), ("t", t)))
    atoms, weights = _leaf("atoms", atoms), _leaf("weights", weights)
    _check("psi_p", psi_p)
    _check("psi_n", psi_n, allow_inf=True)
    _check("t", t)
    _check("atoms", atoms)
    _check("weights", weights, zero_ok=True)
    if atoms.ndim == 0 or atoms.shape != weights.shape:
        raise ValueError(f"atoms and weights must be arrays of one shape (last axis: the K "
                         f"atoms), got shapes {atoms.shape} and {weights.shape}")
    if _concrete(weights) and np.any(np.abs(np.sum(np.asarray(weights), -1) - 1.0) > 1e-12):
        raise ValueError(f"weights must sum to 1 along their last axis, got {weights!r}")
    m = check_noise_samples(noise_samples)
    inv_m = None if math.isinf(m) else jnp.asarray(1.0 / m, jnp.float64)
    return Params(psi_p, psi_n, t, atoms, weights, act, inv_m)


def check_params(p) -> Params:
    """``p`` itself when it is a :class:`Params` and 64-bit types are enabled; else raise."""
    if not isinstance(p, Params):
        raise ValueError(f"params must be a rfdiff.core.Params (from rfdiff.core.params), "
                         f"got {p!r}")
    require_x64()
    return p


def coefficients(p: Params, degree: int = 300) -> Coefficients:
    """Gaussian-equivalence constants μ₀, a_t, b_t, v_t², s_t² (and κ, Δ_t, t) of ``p``.

    Args:
        p: :class:`Params` (unbatched leaves; vmap for a batch).
        degree: quadrature degree (static; see :func:`rfdiff.coefficients`).

    Returns:
        :class:`rfdiff.Coefficients` of JAX scalars.
    """
    p = check_params(p)
    kappa = jnp.sum(p.weights * p.atoms, axis=-1)
    return compute_coefficients(p.activation, p.t, kappa, degree)


def spectral(p: Params) -> SpectralParams:
    """The :class:`SpectralParams` of ``p`` (A = a_t² e^{−2t}, b_t², v_t², s_t²)."""
    c = coefficients(p)
    return SpectralParams(p.psi_p, p.psi_n, c.a**2 * jnp.exp(-2.0 * p.t), c.b**2, c.v2, c.s2,
                          p.atoms, p.weights, p.inv_m)


def density(p: Params, lam, *, status: bool = False):
    """Eigenvalue density per p of U, ρ(λ) = Im q(λ + iε)/π with ε = 1e-10 × spectral bound.

    The atom at s_t² is not part of the density (see :func:`rfdiff.spectral_structure`).

    Args:
        p: :class:`Params` (unbatched; vmap for a batch).
        lam: real points (any shape).
        status: also return the per-point convergence flags.

    Returns:
        ρ with the shape of ``lam``; with ``status=True``, ``(rho, converged)``.
    """
    p = check_params(p)
    P = spectral(p)
    lam = jnp.asarray(lam, jnp.float64)
    flat = lam.reshape(-1)
    eps = jnp.full(flat.shape, EPS_REL) * spectral_bound(P)
    res = resolvent_core(flat, eps, P)
    rho = res.density.reshape(lam.shape)
    return (rho, res.converged.reshape(lam.shape)) if status else rho


def curves(p: Params, tau, *, nodes: int = DEFAULT_NODES) -> Curves:
    """Learning curves in the limit on a grid of training times (the paper's τ = kη/d²).

    Args:
        p: :class:`Params` (unbatched; vmap for a batch).
        tau: 1-D grid of times τ ≥ 0; ``inf`` gives the end of training (meaningful only
            when s_t² > 0: for a linear activation it is not finite, and flagged so).
        nodes: even number of Talbot nodes in [8, 40] (static).

    Returns:
        :class:`rfdiff.Curves` of JAX arrays (``tau``, the four losses, ``converged`` and
        ``residual`` per time; ``nodes`` None). Under jit nothing can raise: check
        ``converged``.

    Raises:
        ValueError: for a concrete ``tau`` that is not a 1-D array of times ≥ 0.
    """
    p = check_params(p)
    tau = jnp.asarray(tau, jnp.float64)
    if tau.ndim != 1 or (_concrete(tau) and (np.any(np.isnan(np.asarray(tau)))
                                              or np.any(np.asarray(tau) < 0))):
        raise ValueError(f"tau must be a 1-D array of times >= 0, got {tau!r}")
    P = spectral(p)
    C = loss_constants_core(p.psi_p, P.b2, p.t, p.atoms, p.weights)
    zhat, omega = talbot_contour(nodes)
    train, test, score, converged, residual = curves_core(P, C, tau, jnp.asarray(zhat),
                                                          jnp.asarray(omega))
    return Curves(tau, train, test, test - train, score, converged, residual, None)
