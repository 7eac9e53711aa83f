"""Asymptotic resolvent of U near the real axis: the one-point equations at z = λ + iε.

The equations, their residual and the continuation are those of :mod:`.onepoint`; this
module runs its :func:`~.onepoint.adaptive` strategy, which follows every point from
ε₀ = 30 × (spectral bound) down to its own ε with step control, and is the solver behind
the densities and the structure of the spectrum (ε → 0⁺ on a real grid) and behind
:func:`solve_resolvent` at arbitrary complex z.

Arrays are solved in padded blocks of one fixed size, so that a single compiled shape
serves every grid; :func:`solve_offsets` also returns dq/dz, which the support test of the
spectrum structure needs.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._common import check_converged
from .._common.validation import positive
from .._common.x64 import float64
from .onepoint import RESIDUAL_TOL, adaptive, herglotz_ok, relative_residual, tangent, values
from .params import (ResolventParams, SpectralParams, as_params, resolvent_params,
                     spectral_bound)

__all__ = [
    "ResolventParams",
    "ResolventResult",
    "AxisSolution",
    "resolvent_params",
    "solve_resolvent",
    "solve_on_grid",
    "solve_offsets",
    "resolvent_core",
    "spectral_density",
    "spectral_scale",
    "as_params",
    "RESIDUAL_TOL",
]

# Continuation range, relative to the spectral bound. ε₀ is far above the support, where
# q = −1/z − m₁/z² is accurate to O(|z|⁻³).
_EPS_START = 30.0
_EPS_FINAL = 1e-10


class ResolventResult(NamedTuple):
    """Solution of the resolvent equations on a set of points z (a pytree of arrays).

    Attributes:
        z: complex spectral parameters where the equations were solved.
        q: (1/p) Tr (U − z)⁻¹.
        r: (1/p) Tr W̃ΣW̃ᵀ (U − z)⁻¹.
        s: (1/p) Tr W̃W̃ᵀ (U − z)⁻¹.
        density: Im q / π (the eigenvalue density per p when Im z → 0⁺).
        converged: True where the continuation reached the target, the final relative
            residual is at most :data:`RESIDUAL_TOL` and the Herglotz signs hold.
        residual: final relative residual (max over the two equations; each residual is
            divided by the sum of the magnitudes of its terms).
        steps: continuation steps taken (accepted and rejected).
    """

    z: jax.Array
    q: jax.Array
    r: jax.Array
    s: jax.Array
    density: jax.Array
    converged: jax.Array
    residual: jax.Array
    steps: jax.Array


class AxisSolution(NamedTuple):
    """A :class:`ResolventResult` with dq/dz at the final points.

    Attributes:
        result: the solution.
        dqdz: dq/dz (outside the support Im q(λ + iε) ≈ ε Re q'(λ), the support test).
    """

    result: ResolventResult
    dqdz: jax.Array


def _finish(path, P) -> AxisSolution:
    q, r, s, _ = values(path.x, path.w, P)
    res = relative_residual(path.x, path.w, P)
    converged = path.done & (res <= RESIDUAL_TOL) & herglotz_ok(q, r, s, path.w)
    dqdz = tangent(path.x, path.w, P)[0]
    result = ResolventResult(path.w + P.s2, q, r, s, jnp.imag(q) / jnp.pi, converged, res,
                             path.steps)
    return AxisSolution(result, dqdz)


def _solve_core(lam, eps_final, P) -> AxisSolution:
    """Vectorised continuation: point k ends at w = lam[k] + i eps_final[k] (shifted)."""
    eps_start = jnp.maximum(_EPS_START * spectral_bound(P), 10.0 * jnp.max(eps_final))
    return jax.vmap(lambda l, e: _finish(adaptive(l, e, eps_start, P), P))(lam, eps_final)


_solve_jit = jax.jit(_solve_core)


def resolvent_core(lam, eps_final, params: SpectralParams) -> ResolventResult:
    """Jit-able, vmappable solver core: z_k = lam[k] + i·eps_final[k].

    This is the function behind :func:`solve_on_grid` and :func:`solve_resolvent`,
    exposed for use inside the caller's own transformations (for example ``jax.vmap``
    over a batch of :class:`SpectralParams`). It returns JAX arrays and needs 64-bit
    types enabled by the caller (``with jax.enable_x64(True):``).

    Args:
        lam: real parts, shape (m,).
        eps_final: imaginary parts (> 0), shape (m,).
        params: :class:`SpectralParams` (arrays may be traced).

    Returns:
        :class:`ResolventResult` of JAX arrays of shape (m,); check ``converged`` and
        ``residual`` per point.

    Raises:
        Nothing: inputs are not checked (a jit-able core that takes traced arrays).
            Build ``params`` with :func:`resolvent_params`, or use :func:`solve_on_grid`
            and :func:`solve_resolvent`, which check their inputs. Bad values give
            non-finite or unconverged results rather than an error.
    """
    return _solve_core(lam - params.s2, eps_final, params).result


# One compiled block size for every grid (compilation costs ~2 s per shape). Small blocks
# also help speed: a block runs as many continuation steps as its slowest point needs.
_BLOCK = 128


def solve_offsets(offsets, eps, P: SpectralParams) -> AxisSolution:
    """Solve at z = s_t² + offsets + i·eps (1-D arrays; eps broadcasts) in padded blocks.

    Takes λ − s_t² rather than λ: offsets are exact, where an absolute λ within 1e-9 of
    s_t² would keep only a few digits of them. Needs 64-bit types enabled by the caller.

    Args:
        offsets: real λ − s_t², shape (m,).
        eps: Im z (> 0), scalar or shape (m,).
        P: checked parameters (:func:`as_params`).

    Returns:
        :class:`AxisSolution` of NumPy arrays of shape (m,).
    """
    lam = np.asarray(offsets, dtype=float).ravel()
    eps = np.broadcast_to(np.asarray(eps, dtype=float), lam.shape)
    m = lam.size
    total = -(-m // _BLOCK) * _BLOCK
    # pad with copies of the last point (a cheap, well-posed solve)
    lam_p = np.concatenate([lam, np.full(total - m, lam[-1])])
    eps_p = np.concatenate([eps, np.full(total - m, eps[-1])])
    outs = [_solve_jit(jnp.asarray(lam_p[i:i + _BLOCK]), jnp.asarray(eps_p[i:i + _BLOCK]), P)
            for i in range(0, total, _BLOCK)]
    return jax.tree_util.tree_map(lambda *a: np.concatenate([np.asarray(v) for v in a])[:m],
                                  *outs)


# ----------------------------------------------------------------------------- public

@float64
def spectral_scale(problem) -> float:
    """Scale of the spectrum, used to set ε: an upper bound of the support of U.

    The bound adds the asymptotic operator norms of the three terms of the
    Gaussian-equivalent U: s_t² + (‖signal‖ + ‖noise‖)² + b_t²(√ψ_p + 1)².

    Args:
        problem: a :class:`Problem` or :class:`SpectralParams`.

    Returns:
        The bound (a float), larger than every eigenvalue of U in the limit.

    Raises:
        ValueError: if ``problem`` is neither a :class:`Problem` nor valid
            :class:`SpectralParams` (non-finite or non-positive ψ, negative constants,
            bad atoms or weights), naming the argument and the value.
    """
    return float(spectral_bound(as_params(problem)))


def _eps_final(P, eps_rel):
    return positive("eps_rel", eps_rel) * float(spectral_bound(P))


@float64
def solve_on_grid(problem, lam, eps_rel: float = _EPS_FINAL, *,
                  throw: bool = False) -> ResolventResult:
    """Solve the resolvent equations at z = λ + iε, ε → 0⁺, on a real grid.

    Every point is followed from ε far above the spectrum down to
    ``ε = eps_rel × spectral_scale`` in one vectorised, jit-compiled solve.

    Args:
        problem: a :class:`Problem` or :class:`SpectralParams`.
        lam: real λ values (any shape).
        eps_rel: final Im z relative to :func:`spectral_scale` (> 0, default 1e-10).
        throw: raise instead of warning when a point did not converge.

    Returns:
        :class:`ResolventResult` of numpy arrays with the shape of ``lam``. Points that
        did not converge are returned as computed, flagged in ``converged``, and a
        RuntimeWarning names them.

    Raises:
        ValueError: for an empty or non-finite ``lam``, a bad ``eps_rel`` or a bad
            ``problem``.
        NotConvergedError: with ``throw=True``, when a point did not converge.
    """
    P = as_params(problem)
    lam = np.asarray(lam, dtype=float)
    if lam.size == 0:
        raise ValueError("lam must contain at least one value, got an empty array")
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"lam must be finite, got {lam!r}")
    sol = solve_offsets(lam.ravel() - float(P.s2), _eps_final(P, eps_rel), P)
    res = jax.tree_util.tree_map(lambda a: a.reshape(lam.shape), sol.result)
    check_converged(res.converged, what="solve_on_grid", where=lam, throw=throw,
                    remedy="try a larger eps_rel", stacklevel=4)
    return res


@float64
def solve_resolvent(problem, z) -> ResolventResult:
    """Solve the resolvent equations at complex z.

    Points in the upper half-plane are reached by ε-continuation from far above the
    spectrum down to their own Im z; points in the lower half-plane use
    q(z̄) = conj q(z) (U is real symmetric). Real z are refused: use
    :func:`solve_on_grid` for z = λ + i0⁺.

    Args:
        problem: a :class:`Problem` or :class:`SpectralParams`.
        z: complex points (any shape) with Im z ≠ 0.

    Returns:
        :class:`ResolventResult` of numpy arrays with the shape of ``z``.

    Raises:
        ValueError: for an empty or non-finite ``z``, or Im z = 0.
    """
    P = as_params(problem)
    z = np.asarray(z, dtype=complex)
    if z.size == 0:
        raise ValueError("z must contain at least one value, got an empty array")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"z must be finite, got {z!r}")
    if np.any(z.imag == 0):
        raise ValueError("z must have Im z != 0 (use solve_on_grid for the real axis), "
                         f"got {z[z.imag == 0].ravel()[:3]!r}")
    flat = z.ravel()
    lower = flat.imag < 0
    res = solve_offsets(flat.real - float(P.s2), np.abs(flat.imag), P).result

    def reflect(v):
        return np.where(lower, np.conj(v), v)

    res = res._replace(z=flat, q=reflect(res.q), r=reflect(res.r), s=reflect(res.s))
    res = res._replace(density=res.q.imag / np.pi)
    return jax.tree_util.tree_map(lambda a: np.asarray(a).reshape(z.shape), res)


@float64
def spectral_density(problem, lam, eps_rel: float = _EPS_FINAL):
    """Eigenvalue density per p, ρ(λ) = Im q(λ + i0⁺)/π, on a real grid.

    Args:
        problem: a :class:`Problem` or :class:`SpectralParams`.
        lam: real λ values.
        eps_rel: final Im z relative to :func:`spectral_scale`.

    Returns:
        ``(density, converged)`` numpy arrays of the shape of ``lam``. Atoms (the one at
        s_t², if any) are not part of the density: see :func:`spectral_structure`.

    Raises:
        ValueError: as :func:`solve_on_grid`.
    """
    res = solve_on_grid(problem, lam, eps_rel)
    return res.density, res.converged
