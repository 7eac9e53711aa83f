"""Gaussian expectations E_{u~N(0,1)}[f(u)] by quadrature (no Monte Carlo).

Smooth integrands use probabilists' Gauss–Hermite nodes. When the activation has kinks
(relu), the kink of ``σ(m + ς u)`` sits at ``u = (k − m)/ς``, which moves with (m, ς);
there we use Gauss–Legendre panels on [−L, L] split at the kink, with the Gaussian
density in the weights, so that each panel integrates a smooth function.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
import scipy.special

__all__ = ["gauss_hermite", "nodes_and_weights", "normalized_hermite"]

# Beyond |u| = 12 the Gaussian density is below 1e-31: the truncation is far below round-off.
_L = 12.0


@functools.lru_cache(maxsize=None)
def gauss_hermite(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite rule with weights normalised to sum to 1."""
    # scipy's rule stays accurate at high degree (numpy's overflows beyond ~150 nodes)
    x, w = scipy.special.roots_hermitenorm(degree)
    return x, w / w.sum()


@functools.lru_cache(maxsize=None)
def _gauss_legendre(degree: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(degree)


def nodes_and_weights(mean, std, kinks=(), degree: int = 80):
    """Nodes u and weights w with E_{u~N(0,1)}[f(u)] ≈ Σ w f(u) for integrands f(u) that
    are smooth except where ``mean + std·u`` hits one of ``kinks``.

    Args:
        mean, std: broadcastable arrays (the argument of σ is ``mean + std·u``).
        kinks: kink locations of σ (empty for smooth σ).
        degree: Gauss–Hermite degree (smooth case) or Gauss–Legendre degree per panel.

    Returns:
        ``(u, w)`` with shape ``broadcast(mean, std).shape + (Q,)``.
    """
    mean = jnp.asarray(mean, dtype=jnp.float64)
    std = jnp.asarray(std, dtype=jnp.float64)
    shape = jnp.broadcast_shapes(mean.shape, std.shape)
    if not kinks:
        x, w = gauss_hermite(degree)
        u = jnp.broadcast_to(jnp.asarray(x), shape + x.shape)
        return u, jnp.broadcast_to(jnp.asarray(w), shape + w.shape)
    mean = jnp.broadcast_to(mean, shape)
    std = jnp.broadcast_to(std, shape)
    cuts = [jnp.clip((k - mean) / std, -_L, _L) for k in sorted(kinks)]
    edges = [jnp.full(shape, -_L)] + cuts + [jnp.full(shape, _L)]
    x, w = _gauss_legendre(degree)
    us, ws = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        half = 0.5 * (hi - lo)[..., None]
        mid = 0.5 * (hi + lo)[..., None]
        u = mid + half * x
        us.append(u)
        ws.append(half * w * jnp.exp(-0.5 * u**2) / jnp.sqrt(2 * jnp.pi))
    return jnp.concatenate(us, axis=-1), jnp.concatenate(ws, axis=-1)


def normalized_hermite(u, kmax: int):
    """Normalised probabilists' Hermite polynomials h_k = He_k/√k!, k = 0..kmax.

    Uses the stable three-term recurrence h_{k+1} = (u h_k − √k h_{k−1})/√(k+1).
    Returns an array of shape ``(kmax + 1,) + u.shape``.
    """
    u = jnp.asarray(u)
    hs = [jnp.ones_like(u), u]
    for k in range(1, kmax):
        hs.append((u * hs[k] - jnp.sqrt(k) * hs[k - 1]) / jnp.sqrt(k + 1.0))
    return jnp.stack(hs[: kmax + 1])
