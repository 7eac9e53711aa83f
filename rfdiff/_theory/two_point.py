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

One-point solver: Newton on x = (q, r) with the residuals q(β + E[Λℓ]) − 1 and
r − qE[λℓ], continued along z + iε with ε from 30·(spectral bound) down to 0 on a fixed
geometric schedule (Euler tangent predictor, Newton corrector), so every point follows the
branch connected to q ~ −1/z through the half-plane of its own Im z. Points with Im z < 0 are
solved at z̄ and conjugated (q(z̄) is the conjugate of q(z)). A point converges when the
relative residual is below :data:`RESIDUAL_TOL` and the signs are those of Stieltjes
transforms of positive measures (Im q, Im r, Im s ≥ 0 for Im z > 0; real values for real z).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._model.problem import Problem
from .._common.x64 import float64

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

#: Largest relative residual of a converged one-point solution.
RESIDUAL_TOL = 1e-10
#: Largest relative defect |F(z, w) − F(w, z)| / |F| of a converged two-point value.
SYMMETRY_TOL = 1e-8

# Continuation schedule: ε_k = ε₀ γ^k (k = 0..STEPS−1), then ε = 0. With γ = 0.75 and 100
# steps the last ε is 3e-13 ε₀, far below any Im z the curves use (|Im z| ≳ N/(cτ)·0.1).
_START = 30.0
_RATIO = 0.75
_STEPS = 100
_NEWTON_PER_STEP = 3
_NEWTON_FINAL = 8


class SpectralParams(NamedTuple):
    """Numeric parameters of the Gaussian-equivalent U (a pytree of float64 arrays).

    Attributes:
        psi_p: ψ_p = p/d.
        psi_n: ψ_n = n/d.
        A: a_t² e^{−2t}, the coefficient of the data part of the feature covariance.
        b2: b_t².
        v2: v_t².
        s2: s_t².
        atoms, weights: ρ_Σ, arrays of shape (K,) (weight-0 padding allowed).
    """

    psi_p: jax.Array
    psi_n: jax.Array
    A: jax.Array
    b2: jax.Array
    v2: jax.Array
    s2: jax.Array
    atoms: jax.Array
    weights: jax.Array


class OnePoint(NamedTuple):
    """One-point solution at points z (arrays of the shape of z).

    Attributes:
        z: the points.
        q: (1/p) Tr R_z.
        r: (1/p) Tr S R_z.
        s: (1/p) Tr K R_z.
        D: 1 + (ψ_p/ψ_n)(A r + v² q).
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


# ----------------------------------------------------------------------------- parameters

@float64
def spectral_params(problem: Problem) -> SpectralParams:
    """The numeric parameters of a :class:`Problem` (Gaussian-equivalence constants).

    Args:
        problem: the model.

    Returns:
        :class:`SpectralParams`.

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem`.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    c = problem.coefficients
    f = functools.partial(jnp.asarray, dtype=jnp.float64)
    return SpectralParams(
        psi_p=f(problem.psi_p), psi_n=f(problem.psi_n),
        A=f(float(c.a) ** 2 * math.exp(-2.0 * problem.t)), b2=f(float(c.b) ** 2),
        v2=f(float(c.v2)), s2=f(float(c.s2)),
        atoms=f(problem.spectrum.atoms), weights=f(problem.spectrum.weights))


def spectral_bound(P: SpectralParams):
    """An upper bound of the limiting spectrum of U (sum of asymptotic operator norms).

    Args:
        P: the parameters.

    Returns:
        s_t² + (‖signal‖ + ‖noise‖)² + b_t²(√ψ_p + 1)², a JAX scalar.
    """
    lam_max = jnp.max(jnp.where(P.weights > 0, P.atoms, 0.0))
    sp = jnp.sqrt(P.psi_p)
    signal = jnp.sqrt(P.A * lam_max) * (sp + 1.0) * (1.0 + 1.0 / jnp.sqrt(P.psi_n))
    noise = jnp.sqrt(P.v2) * (jnp.sqrt(P.psi_p / P.psi_n) + 1.0)
    return P.s2 + (signal + noise) ** 2 + P.b2 * (sp + 1.0) ** 2


def _expect(P, f):
    return jnp.sum(P.weights * f, axis=-1)


# ----------------------------------------------------------------------------- one point

def _terms(x, z, P, zeta):
    """D, β, Λ (per atom), ℓ (per atom) at x = (q, r); ζ = (ζ_I, ζ_K, ζ_S) deforms U."""
    q, r = x[0], x[1]
    D = 1.0 + (P.psi_p / P.psi_n) * (P.A * r + P.v2 * q)
    beta = P.s2 + zeta[0] - z + P.v2 / D
    Lam = P.b2 + zeta[1] + (P.A / D + zeta[2]) * P.atoms
    ell = 1.0 / (1.0 + P.psi_p * q * Lam)
    return D, beta, Lam, ell


def _residual(x, z, P, zeta):
    q, r = x[0], x[1]
    _, beta, Lam, ell = _terms(x, z, P, zeta)
    return jnp.stack([q * beta + q * _expect(P, Lam * ell) - 1.0,
                      r - q * _expect(P, P.atoms * ell)])


def _relative_residual(x, z, P):
    q, r = x[0], x[1]
    _, beta, Lam, ell = _terms(x, z, P, _ZETA0)
    t1, t2 = q * beta, q * _expect(P, Lam * ell)
    t3 = q * _expect(P, P.atoms * ell)
    rel = jnp.maximum(jnp.abs(t1 + t2 - 1.0) / (jnp.abs(t1) + jnp.abs(t2) + 1.0),
                      jnp.abs(r - t3) / (jnp.abs(r) + jnp.abs(t3)))
    return jnp.where(jnp.isfinite(rel), rel, jnp.inf)


_ZETA0 = (0.0, 0.0, 0.0)
_jac_x = jax.jacfwd(_residual, argnums=0, holomorphic=True)


def _solve2(J, f):
    # 2×2 solve by Cramer's rule: vmappable, and the systems here are well conditioned
    det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
    return jnp.stack([(J[1, 1] * f[0] - J[0, 1] * f[1]) / det,
                      (J[0, 0] * f[1] - J[1, 0] * f[0]) / det])


def _newton(x, z, P, iters):
    def body(_, x):
        return x - _solve2(_jac_x(x, z, P, _ZETA0), _residual(x, z, P, _ZETA0))
    return jax.lax.fori_loop(0, iters, body, x)


def _solve_upper(z, P, eps0):
    """Continue from z + iε₀ to z (Im z ≥ 0) along the vertical line through z."""
    kappa = _expect(P, P.atoms)
    z0 = z + 1j * eps0
    x = jnp.stack([-1.0 / z0, -kappa / z0])  # q ~ −1/z, r ~ −κ/z at large |z|
    x = _newton(x, z0, P, _NEWTON_FINAL)

    def step(k, x):
        eps_old = eps0 * _RATIO ** (k - 1.0)
        eps_new = jnp.where(k < _STEPS, eps0 * _RATIO ** k, 0.0)
        z_old, z_new = z + 1j * eps_old, z + 1j * eps_new
        # Euler predictor: dx/dz = −J⁻¹ ∂F/∂z, and only the first residual depends on z
        dF = jnp.stack([-x[0], jnp.zeros_like(x[0])])
        pred = x - _solve2(_jac_x(x, z_old, P, _ZETA0), dF) * (z_new - z_old)
        pred = jnp.where(jnp.all(jnp.isfinite(pred)), pred, x)
        return _newton(pred, z_new, P, _NEWTON_PER_STEP)

    x = jax.lax.fori_loop(1, _STEPS + 1, step, x)
    return _newton(x, z, P, _NEWTON_FINAL)


def _one(z, P, eps0):
    flip = jnp.imag(z) < 0
    zu = jnp.where(flip, jnp.conj(z), z)
    x = _solve_upper(zu, P, eps0)
    res = _relative_residual(x, zu, P)
    q, r = x[0], x[1]
    D, _, _, ell = _terms(x, zu, P, _ZETA0)
    s = q * _expect(P, ell)
    tol = 1e-12
    upper = jnp.imag(zu) > 0
    # Stieltjes transforms of positive measures: Im ≥ 0 above the axis; real on the axis
    # (a complex solution at real z means z lies on the support, where R_z is undefined)
    signs_up = ((jnp.imag(q) >= -tol * jnp.abs(q)) & (jnp.imag(r) >= -tol * jnp.abs(r))
                & (jnp.imag(s) >= -tol * jnp.abs(s)))
    signs_real = ((jnp.abs(jnp.imag(q)) <= 1e-8 * jnp.abs(q))
                  & (jnp.abs(jnp.imag(s)) <= 1e-8 * jnp.abs(s)))
    ok = (res <= RESIDUAL_TOL) & jnp.where(upper, signs_up, signs_real)
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

def _basis_table(P, xz, z, xw, w):
    """T(X, Y) = (1/p) Tr X Q_z Y Q_w for X, Y in the basis (I, K, S), shape (3, 3, ...)."""
    qz, qw = xz[0], xw[0]
    _, bz, Lz, lz = _terms(xz, z, P, _ZETA0)
    _, _, _, lw = _terms(xw, w, P, _ZETA0)
    ll = lz * lw
    qq = qz * qw
    den = bz + _expect(P, Lz * ll)
    ones = jnp.ones_like(P.atoms)
    phis = (ones, P.atoms)  # K, S
    tau = [qw / den] + [(qw * _expect(P, psi * lw) - P.psi_p * qq * _expect(P, Lz * psi * ll))
                        / den for psi in phis]
    rows = [tau]
    for phi in phis:
        e = _expect(P, phi * ll)
        rows.append([e * tau[0]] + [e * tau[j + 1] + P.psi_p * qq * _expect(P, phi * psi * ll)
                                    for j, psi in enumerate(phis)])
    return rows


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
    Dz = _terms(xz, z, P, _ZETA0)[0]
    Dw = _terms(xw, w, P, _ZETA0)[0]
    return _F_from_table(P, _basis_table(P, xz, z, xw, w), Dz, Dw)


def pair_table(P: SpectralParams, a: OnePoint, b: OnePoint):
    """Jit-able (F_K, F_S, F_I) at the pairs of broadcastable one-point solutions a, b.

    No symmetry check (see :func:`two_point_from`); for tables whose transpose is also
    computed, the check is the comparison with the transpose.

    Args:
        P: the parameters (traced).
        a, b: :class:`OnePoint` solutions at z and at w (broadcastable shapes).

    Returns:
        ``(F_K, F_S, F_I)``, JAX arrays of the broadcast shape.
    """
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
    sol = one_point_core(P, z)

    def one(zz, q, r):
        x = jnp.stack([q, r])
        zeta = jnp.zeros(3, jnp.complex128)
        res = lambda x, zeta: _residual(x, zz, P, zeta)  # noqa: E731

        def s_of(x, zeta):
            return x[0] * _expect(P, _terms(x, zz, P, zeta)[3])

        Jx = jax.jacfwd(res, argnums=0, holomorphic=True)(x, zeta)
        Jz = jax.jacfwd(res, argnums=1, holomorphic=True)(x, zeta)  # (2, 3)
        dx = -jnp.stack([_solve2(Jx, Jz[:, k]) for k in range(3)], axis=1)
        ds = (jax.grad(lambda x: s_of(x, zeta), holomorphic=True)(x) @ dx
              + jax.grad(lambda zt: s_of(x, zt), holomorphic=True)(zeta))
        return -P.psi_p * ds  # (I, K, S)

    F = jax.vmap(one)(sol.z.reshape(-1), sol.q.reshape(-1), sol.r.reshape(-1))
    F = F.reshape(sol.z.shape + (3,))
    return F[..., 1], F[..., 2], F[..., 0], sol


_diagonal_jit = jax.jit(_diagonal_core)


# ----------------------------------------------------------------------------- public API

def _points(name, z):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.number) or not np.all(np.isfinite(z)):
        raise ValueError(f"{name} must be finite complex numbers, got {z!r}")
    return z.astype(np.complex128)


@float64
def one_point(problem: Problem, z) -> OnePoint:
    """Solve the one-point equations at complex points z off the limiting spectrum.

    Args:
        problem: the model.
        z: complex points (any shape). Real points must lie outside the support (e.g.
            z < s_t²); points with Im z ≠ 0 may be anywhere.

    Returns:
        :class:`OnePoint` (NumPy arrays); check ``converged``.

    Raises:
        ValueError: for a non-finite z or a bad problem.
    """
    return _one_point_jit(spectral_params(problem), _points("z", z))


@float64
def two_point(problem: Problem, z, w) -> TwoPoint:
    """Two-resolvent traces F_Y(z, w) = (1/d) Tr K R_z Y R_w in the limit d → ∞.

    Args:
        problem: the model.
        z, w: broadcastable complex points off the limiting spectrum (z = w allowed).

    Returns:
        :class:`TwoPoint` (NumPy arrays) with F_K, F_S, F_I, F_pop, the residual and the
        convergence flag.

    Raises:
        ValueError: for non-finite points or a bad problem.
    """
    return _two_point_jit(spectral_params(problem), _points("z", z), _points("w", w))


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
