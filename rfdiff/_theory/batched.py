"""Asymptotic learning curves for many (ψ_p, ψ_n) at once, on every JAX device present.

The activation, t and ρ_Σ enter only through constants shared by the whole batch, so one
compiled function evaluates the curves of a batch of parameter points; batches are split
over ``jax.devices()`` (``pmap``) when there are several, so the same call scales to an
accelerator. A ``progress`` callback receives (points done, points total).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._common import Curves, float64
from .._model.problem import Problem
from .curves import DEFAULT_NODES, _loss_constants, curves_core, talbot_contour
from .params import spectral_params

__all__ = ["batched_curves"]


@functools.lru_cache(maxsize=None)
def _compiled(n_devices, per_point_tau):
    tau_axis = 0 if per_point_tau else None
    batched = jax.vmap(curves_core, in_axes=(0, 0, tau_axis, None, None))
    if n_devices > 1:
        return jax.pmap(batched, in_axes=(0, 0, tau_axis, None, None))
    return jax.jit(batched)


def _stack(tree_list):
    return jax.tree_util.tree_map(lambda *v: jnp.stack(v), *tree_list)


@float64
def batched_curves(problem: Problem, psi_p, psi_n, tau, *, nodes: int = DEFAULT_NODES,
                   chunk: int = 64, progress=None):
    """Train, test and score-error curves in the limit for many (ψ_p, ψ_n).

    Args:
        problem: template giving t, the activation, ρ_Σ and the weight decay λ (its ψ's
            are ignored).
        psi_p, psi_n: arrays of equal length B (> 0).
        tau: grid of T times shared by all points, shape (T,), or one grid per point,
            shape (B, T) (> 0, ``inf`` allowed; ``inf`` needs s_t² > 0).
        nodes: Talbot nodes.
        chunk: points per compiled batch (per device).
        progress: optional callable ``progress(done, total)``.

    Returns:
        :class:`rfdiff.Curves` whose arrays have shape (B, T): ``tau`` (the grid of each
        point), the four losses, ``converged`` and ``residual`` per point and time, and
        ``nodes``. No warning is issued; callers check ``converged`` (or ``status``).

    Raises:
        ValueError: for non-positive ψ's, mismatched lengths or a bad τ grid.
    """
    psi_p = np.atleast_1d(np.asarray(psi_p, float))
    psi_n = np.atleast_1d(np.asarray(psi_n, float))
    tau = np.atleast_1d(np.asarray(tau, float))
    per_point = tau.ndim == 2
    if psi_p.shape != psi_n.shape or psi_p.ndim != 1:
        raise ValueError(f"psi_p and psi_n must be 1-D of equal length, got {psi_p.shape} "
                         f"and {psi_n.shape}")
    for name, arr in (("psi_p", psi_p), ("psi_n", psi_n)):
        bad = ~(np.isfinite(arr) & (arr > 0))
        if bad.any():
            raise ValueError(f"{name} must be finite and > 0, got {arr[bad][0]!r}")
    if (per_point and tau.shape[0] != psi_p.size) or tau.ndim > 2 or np.any(np.isnan(tau)) \
            or np.any(tau <= 0):
        raise ValueError(f"tau must be a grid of times > 0, shape (T,) or (B, T), got {tau!r}")
    base_P = spectral_params(problem)
    base_C = _loss_constants(problem)
    zhat, omega = talbot_contour(nodes)
    devices = jax.devices()
    nd = len(devices)
    B = psi_p.size
    # small batches: a power-of-two chunk (few compiled shapes, little padding)
    chunk = min(int(chunk), max(1, 1 << (-(-B // nd) - 1).bit_length()))
    step = chunk * nd
    total = -(-B // step) * step
    pp = np.concatenate([psi_p, np.full(total - B, psi_p[-1])])
    pn = np.concatenate([psi_n, np.full(total - B, psi_n[-1])])
    if per_point:
        tau = np.concatenate([tau, np.repeat(tau[-1:], total - B, axis=0)])
    fn = _compiled(nd, per_point)
    outs = []
    for lo in range(0, total, step):
        P = base_P._replace(
            psi_p=jnp.asarray(pp[lo:lo + step]), psi_n=jnp.asarray(pn[lo:lo + step]),
            **{f: jnp.broadcast_to(getattr(base_P, f), (step,) + jnp.shape(getattr(base_P, f)))
               for f in ("A", "b2", "v2", "s2", "atoms", "weights", "inv_m")
               if getattr(base_P, f) is not None})
        C = base_C._replace(psi_p=jnp.asarray(pp[lo:lo + step]),
                            **{f: jnp.broadcast_to(getattr(base_C, f), (step,))
                               for f in ("b2", "delta", "score_trace", "ridge")})
        tau_arg = jnp.asarray(tau[lo:lo + step] if per_point else tau)
        if nd > 1:
            P, C = (jax.tree_util.tree_map(lambda v: v.reshape((nd, chunk) + v.shape[1:]), x)
                    for x in (P, C))
            if per_point:
                tau_arg = tau_arg.reshape((nd, chunk) + tau_arg.shape[1:])
        res = fn(P, C, tau_arg, jnp.asarray(zhat), jnp.asarray(omega))
        res = [np.asarray(r).reshape((step,) + np.shape(r)[-1:]) for r in res[:5]]
        outs.append(res)
        if progress is not None:
            progress(min(lo + step, B), B)
    train, test, score, conv, resid = (np.concatenate([o[i] for o in outs])[:B]
                                       for i in range(5))
    grid = np.broadcast_to(tau[:B] if per_point else tau, train.shape).copy()
    return Curves(grid, train, test, test - train, score, conv.astype(bool), resid, int(nodes))
