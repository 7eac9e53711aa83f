"""One- and two-resolvent traces of the Gaussian-equivalent U at complex z, d → ∞.

Model (THEORY.md §3, odd σ): U = (1/n)GGᵀ + b²K + s²I with K = W̃W̃ᵀ, S = W̃ΣW̃ᵀ,
G = e^{−t}a W̃X + vΩ. Write A = a²e^{−2t}, R_z = (U − z)⁻¹ and E for the average over ρ_Σ
(atoms λ). The library needs, at complex z, w off the spectrum,

    s(z) = (1/p) Tr K R_z                          (one point)
    F_Y(z, w) = (1/d) Tr K R_z Y R_w,  Y ∈ {K, S, I}   (two points).

Both follow from a two-level deterministic equivalent (docs/learning_curves.md §3).

Level 1 (average over X, Ω at fixed W̃; the columns of G are iid N(0, C), C = A S + v²I):
R_z ≈ Q_z = (β_z I + W̃Λ_zW̃ᵀ)⁻¹ with

    D_z = 1 + (ψ_p/ψ_n)(A r + v² q),  β_z = s² − z + v²/D_z,  Λ_z = b² + (A/D_z)Σ,

and, for the two-point function,

    (1/p) Tr K R_z Y R_w ≈ T(K, Y) + T(K, C) θ_Y / (D_z D_w − θ_C),
    θ_Y = (ψ_p/ψ_n) T(C, Y),   T(X, Y) = (1/p) Tr X Q_z Y Q_w   (bilinear in X, Y).

Level 2 (average over W̃; leave-one-column-out with ℓ_z = 1/(1 + ψ_p q_z Λ_z), per atom):

    one point:   q = 1/(β + E[Λℓ]),  r = q E[λℓ],  s = q E[ℓ];
    two points:  den = β_z + E[Λ_z ℓ_z ℓ_w],
                 T(I, I) = q_w / den,
                 T(I, Ψ) = (q_w E[ψ ℓ_w] − ψ_p q_z q_w E[Λ_z ψ ℓ_z ℓ_w]) / den,
                 T(Φ, Y) = E[φ ℓ_z ℓ_w] T(I, Y) + [Y = Ψ] ψ_p q_z q_w E[φ ψ ℓ_z ℓ_w],

for X = W̃ΦW̃ᵀ, Y = W̃ΨW̃ᵀ with Φ = φ(Σ), Ψ = ψ(Σ) (K: φ = 1, S: φ = λ). Given the
one-point solutions at z and w, the two-point equations are linear and are solved here in
closed form. The one-point equations are those of THEORY.md §4 (ŝ + λr̂ = ψ_pΛ + 1/q).

Two checks are built in. F_Y(z, w) = F_Y(w, z) (transpose the trace) holds for the formulas
only at exact one-point solutions, although they are not symmetric in form; its defect is
the two-point residual. The diagonal F_Y(z, z) also follows from the one-point equations
deformed by U → U + ζ_I I + ζ_K K + ζ_S S: F_Y(z, z) = −ψ_p ∂s/∂ζ_Y
(:func:`diagonal_two_point`, an independent route used by the tests).

One-point solutions come from :mod:`.onepoint` (its :func:`~.onepoint.fixed` strategy: a
fixed geometric schedule in ε from 30·(spectral bound) down to 0, so every point follows the
branch connected to q ~ −1/z through the half-plane of its own Im z, and the solve vectorises
over any batch of points). Points with Im z < 0 are solved at z̄ and conjugated (q(z̄) is the
conjugate of q(z)). A point converges when the relative residual is below
:data:`RESIDUAL_TOL` and the signs are those of Stieltjes transforms of positive measures
(:func:`~.onepoint.herglotz_ok`).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._common import check_converged
from .._common.x64 import float64
from .._model.problem import Problem
from .basis import basis_table
from .noise_samples import sample_pair_table
from .onepoint import (RESIDUAL_TOL, expect, fixed, herglotz_ok, relative_residual, residual,
                       solve2, terms, values)
from .params import SpectralParams, require_noise_averaged, spectral_bound, spectral_params

__all__ = [
    "SpectralParams",
    "OnePoint",
    "TwoPoint",
    "spectral_params",
    "spectral_bound",
    "one_point",
    "two_point",
    "diagonal_two_point",
    "one_point_core",
    "two_point_core",
    "two_point_from",
    "pair_table",
    "population_trace",
    "RESIDUAL_TOL",
    "SYMMETRY_TOL",
]

#: Largest relative defect |F(z, w) − F(w, z)| / |F| of a converged two-point value.
SYMMETRY_TOL = 1e-8

_START = 30.0  # ε₀ = _START × (spectral bound + 1)


class OnePoint(NamedTuple):
    """One-point solution at points z (arrays of the shape of z).

    Attributes:
        z: the points.
        q: (1/p) Tr R_z.
        r: (1/p) Tr S R_z.
        s: (1/p) Tr K R_z.
        D: 1 + (ψ_p/ψ_n)(A r + v² q) (with m noise samples: D₁ of
            :func:`~.onepoint.terms`).
        residual: relative residual of the equations (inf if not finite).
        converged: residual ≤ RESIDUAL_TOL and the Stieltjes sign conditions hold.
    """

    z: jax.Array
    q: jax.Array
    r: jax.Array
    s: jax.Array
    D: jax.Array
    residual: jax.Array
    converged: jax.Array


class TwoPoint(NamedTuple):
    """Two-resolvent traces F_Y(z, w) = (1/d) Tr K R_z Y R_w (broadcast shape of z, w).

    Attributes:
        z, w: the points.
        F_K: Y = K = W̃W̃ᵀ.
        F_S: Y = S = W̃ΣW̃ᵀ.
        F_I: Y = I.
        F_pop: Y = Ũ = A S + b² K + (s² + v²) I, the population matrix (test loss).
        residual: max over Y of ``|F_Y(z, w) − F_Y(w, z)| / |F_Y(z, w)|`` and the one-point
            residuals at z and w.
        converged: both one-point solutions converged and the symmetry defect is at most
            SYMMETRY_TOL.
    """

    z: jax.Array
    w: jax.Array
    F_K: jax.Array
    F_S: jax.Array
    F_I: jax.Array
    F_pop: jax.Array
    residual: jax.Array
    converged: jax.Array


# ----------------------------------------------------------------------------- one point

def _terms(x, z, P):
    """D, β, Λ, ℓ of :func:`~.onepoint.terms` at the absolute point z."""
    return terms(x, z - P.s2, P)


def _one(z, P, eps0):
    flip = jnp.imag(z) < 0
    zu = jnp.where(flip, jnp.conj(z), z)
    w = zu - P.s2
    x = fixed(w, eps0, P)
    res = relative_residual(x, w, P)
    q, r, s, D = values(x, w, P)
    ok = (res <= RESIDUAL_TOL) & herglotz_ok(q, r, s, w)
    conj = lambda v: jnp.where(flip, jnp.conj(v), v)  # noqa: E731
    return OnePoint(z, conj(q), conj(r), conj(s), conj(D), res, ok)


def one_point_core(P: SpectralParams, z) -> OnePoint:
    """Jit-able one-point solve at complex points z (any shape).

    Args:
        P: the parameters (traced).
        z: complex points off the limiting spectrum.

    Returns:
        :class:`OnePoint` of JAX arrays (needs 64-bit types enabled by the caller; see
        :func:`one_point`).
    """
    z = jnp.asarray(z, dtype=jnp.complex128)
    eps0 = _START * (spectral_bound(P) + 1.0)
    flat = jax.vmap(lambda zz: _one(zz, P, eps0))(z.reshape(-1))
    return OnePoint(*(v.reshape(z.shape) for v in flat))


_one_point_jit = jax.jit(one_point_core)


# ----------------------------------------------------------------------------- two points

def _F_from_table(P, T, Dz, Dw):
    """F_Y = ψ_p [T(K, Y) + T(K, C) θ_Y/(D_z D_w − θ_C)] for Y = K, S, I; C = A S + v² I."""
    c = (P.v2, 0.0, P.A)  # coefficients of C in the basis (I, K, S)
    ratio = P.psi_p / P.psi_n
    theta = [ratio * sum(c[i] * T[i][j] for i in range(3)) for j in range(3)]
    theta_C = sum(c[j] * theta[j] for j in range(3))
    T_KC = sum(c[j] * T[1][j] for j in range(3))
    gain = T_KC / (Dz * Dw - theta_C)
    F = [P.psi_p * (T[1][j] + gain * theta[j]) for j in range(3)]
    return F[1], F[2], F[0]  # K, S, I


def _pair(P, z, xz, w, xw):
    Dz = _terms(xz, z, P)[0]
    Dw = _terms(xw, w, P)[0]
    return _F_from_table(P, basis_table(P, xz, z, xw, w), Dz, Dw)


def pair_table(P: SpectralParams, a: OnePoint, b: OnePoint):
    """Jit-able (F_K, F_S, F_I) at the pairs of broadcastable one-point solutions a, b.

    No symmetry check (see :func:`two_point_from`); for tables whose transpose is also
    computed, the check is the comparison with the transpose.

    Args:
        P: the parameters (traced).
        a, b: :class:`OnePoint` solutions at z and at w (broadcastable shapes).

    Returns:
        ``(F_K, F_S, F_I)``, JAX arrays of the broadcast shape.

    With ``P.inv_m`` given (m noise samples) the traces are those of the two-group
    equivalent of :func:`rfdiff._theory.noise_samples.sample_pair_table`.
    """
    if P.inv_m is not None:
        return sample_pair_table(P, a, b)[:3]
    za, qa, ra, zb, qb, rb = jnp.broadcast_arrays(a.z, a.q, a.r, b.z, b.q, b.r)
    flat = [v.reshape(-1) for v in (za, qa, ra, zb, qb, rb)]
    F = jax.vmap(lambda z, q, r, w, qw, rw: _pair(P, z, (q, r), w, (qw, rw)))(*flat)
    return tuple(f.reshape(za.shape) for f in F)


def population_trace(P: SpectralParams, F_K, F_S, F_I):
    """F_pop = A F_S + b² F_K + (s² + v²) F_I, i.e. Y = Ũ (the test-loss matrix)."""
    return P.A * F_S + P.b2 * F_K + (P.s2 + P.v2) * F_I


def two_point_from(P: SpectralParams, a: OnePoint, b: OnePoint) -> TwoPoint:
    """Jit-able two-point traces from one-point solutions at z (``a``) and w (``b``).

    ``a`` and ``b`` broadcast against each other (e.g. shapes (N, 1) and (1, N) give the
    N×N table of pairs). Both orders (z, w) and (w, z) are evaluated: the formulas are not
    symmetric in form, and F(z, w) = F(w, z) holds only at exact one-point solutions, so
    the defect is the two-point residual. Returns JAX arrays; needs 64-bit types enabled
    by the caller.
    """
    fwd = pair_table(P, a, b)
    bwd = pair_table(P, b, a)
    defect = functools.reduce(jnp.maximum,
                              [jnp.abs(f - g) / jnp.abs(f) for f, g in zip(fwd, bwd)])
    F_K, F_S, F_I = fwd
    residual = jnp.maximum(defect, jnp.maximum(a.residual, b.residual))
    residual = jnp.where(jnp.isfinite(residual), residual, jnp.inf)
    converged = a.converged & b.converged & (defect <= SYMMETRY_TOL)
    za, zb = jnp.broadcast_arrays(a.z, b.z)
    return TwoPoint(za, zb, F_K, F_S, F_I, population_trace(P, F_K, F_S, F_I), residual,
                    converged)


def two_point_core(P: SpectralParams, z, w) -> TwoPoint:
    """Jit-able two-point solve at broadcastable complex points z, w.

    Args:
        P: the parameters (traced).
        z, w: complex points off the limiting spectrum.

    Returns:
        :class:`TwoPoint` of JAX arrays (see :func:`two_point`).
    """
    z, w = jnp.broadcast_arrays(jnp.asarray(z, jnp.complex128), jnp.asarray(w, jnp.complex128))
    return two_point_from(P, one_point_core(P, z), one_point_core(P, w))


_two_point_jit = jax.jit(two_point_core)


def _diagonal_core(P, z):
    """F_Y(z, z) = −ψ_p ∂s/∂ζ_Y by implicit differentiation of the one-point equations."""
    require_noise_averaged(P, "diagonal_two_point")
    sol = one_point_core(P, z)

    def one(zz, q, r):
        x = jnp.stack([q, r])
        zeta = jnp.zeros(3, jnp.complex128)
        w = zz - P.s2
        res = lambda x, zeta: residual(x, w, P, zeta)  # noqa: E731

        def s_of(x, zeta):
            return x[0] * expect(P, terms(x, w, P, zeta)[3])

        Jx = jax.jacfwd(res, argnums=0, holomorphic=True)(x, zeta)
        Jz = jax.jacfwd(res, argnums=1, holomorphic=True)(x, zeta)  # (2, 3)
        dx = -jnp.stack([solve2(Jx, Jz[:, k]) for k in range(3)], axis=1)
        ds = (jax.grad(lambda x: s_of(x, zeta), holomorphic=True)(x) @ dx
              + jax.grad(lambda zt: s_of(x, zt), holomorphic=True)(zeta))
        return -P.psi_p * ds  # (I, K, S)

    F = jax.vmap(one)(sol.z.reshape(-1), sol.q.reshape(-1), sol.r.reshape(-1))
    F = F.reshape(sol.z.shape + (3,))
    return F[..., 1], F[..., 2], F[..., 0], sol


_diagonal_jit = jax.jit(_diagonal_core)


# ----------------------------------------------------------------------------- public API

_REMEDY = "points on (or very close to) the real support have no resolvent"


def _points(name, z):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.number) or not np.all(np.isfinite(z)):
        raise ValueError(f"{name} must be finite complex numbers, got {z!r}")
    return z.astype(np.complex128)


@float64
def one_point(problem: Problem, z, *, throw: bool = False) -> OnePoint:
    """Solve the one-point equations at complex points z off the limiting spectrum.

    Args:
        problem: the model.
        z: complex points (any shape). Real points must lie outside the support (e.g.
            z < s_t²); points with Im z ≠ 0 may be anywhere.
        throw: raise instead of warning when a point did not converge.

    Returns:
        :class:`OnePoint` (NumPy arrays). Points that did not converge are returned as
        computed, flagged in ``converged``, and a RuntimeWarning names them.

    Raises:
        ValueError: for a non-finite z or a bad problem.
        NotConvergedError: with ``throw=True``, when a point did not converge.
    """
    z = _points("z", z)
    sol = _one_point_jit(spectral_params(problem), z)
    check_converged(np.asarray(sol.converged), what="one_point", where=z, throw=throw,
                    remedy=_REMEDY, stacklevel=4)
    return sol


@float64
def two_point(problem: Problem, z, w, *, throw: bool = False) -> TwoPoint:
    """Two-resolvent traces F_Y(z, w) = (1/d) Tr K R_z Y R_w in the limit d → ∞.

    Args:
        problem: the model.
        z, w: broadcastable complex points off the limiting spectrum (z = w allowed).
        throw: raise instead of warning when a pair did not converge.

    Returns:
        :class:`TwoPoint` (NumPy arrays) with F_K, F_S, F_I, F_pop, the residual and the
        convergence flag. Pairs that did not converge are returned as computed and a
        RuntimeWarning names them (by their z).

    Raises:
        ValueError: for non-finite points or a bad problem.
        NotConvergedError: with ``throw=True``, when a pair did not converge.
    """
    tp = _two_point_jit(spectral_params(problem), _points("z", z), _points("w", w))
    check_converged(np.asarray(tp.converged), what="two_point", where=np.asarray(tp.z),
                    throw=throw, remedy=_REMEDY, stacklevel=4)
    return tp


@float64
def diagonal_two_point(problem: Problem, z):
    """F_Y(z, z) from the ζ-derivative of the one-point equations (independent of the
    two-point equations).

    Args:
        problem: the model.
        z: complex points off the limiting spectrum.

    Returns:
        ``(F_K, F_S, F_I, one_point_solution)``; F_Y = −ψ_p ∂s/∂ζ_Y for the deformation
        U → U + ζ_I I + ζ_K K + ζ_S S at ζ = 0.

    Raises:
        ValueError: for non-finite points or a bad problem.
    """
    return _diagonal_jit(spectral_params(problem), _points("z", z))
