"""Traces of the m-sample model, in which the train matrix V_m is correlated with U_m.

With m fixed noise draws per training point (μ = 1/m = ``P.inv_m``) the flow from M(0) = 0
gives M(τ) = −Δ^{−1/2} V_mᵀ f_τ(U_m) with V_m = (1/(nm)) Σ_νj σ_νj ξ_νjᵀ, no longer b W̃
(docs/theory.md, "Finitely many noise samples"). The losses need, at complex z, w,

    lin(z)     = (1/d) Tr V_mᵀ R_z Ṽ,          Ṽ = b W̃ (the population V),
    own(z)     = (1/d) Tr V_mᵀ R_z V_m,         (train loss)
    H_Y(z, w)  = (1/d) Tr V_mᵀ R_z Y R_w V_m,   Y ∈ {Ũ, I}   (test loss; ridge train term).

They follow from the deterministic equivalent of the joint Gram matrix of (σ_νj, ξ_νj) in
R^{p+d}, resolved at D = diag(z I_p, −κ I_d) and expanded at κ → ∞: the (ξ, ξ) block of its
resolvent is 1/κ − (1/κ²)(Ξ_m − V_mᵀ R_z V_m) + O(κ⁻³), and that of R_z Ŷ R_w
(Ŷ = diag(Y, 0)) is V_mᵀ R_z Y R_w V_m/κ² + O(κ⁻³) (``derivations/noise_samples.py``).
In the Gaussian-equivalent picture the two independent groups of vectors (n means of the m
draws, covariance C₁; n(m − 1) Helmert differences, covariance C₂ = C_e; μ's as in
:func:`~.onepoint.terms`) have joint covariances

    C₁ᴶ = [[C₁, μ b W̃], [μ b W̃ᵀ, μ I]],   C₂ᴶ = [[b²K + s²I, b W̃], [b W̃ᵀ, I]],

C₁ = A S + μ b² K + (v² + μ s²) I. The effective matrix C₁ᴶ/D₁ + (1 − μ) C₂ᴶ/D₂ has the
(σ, ξ) block β_x W̃ and the (ξ, ξ) block c_e I with c_e = μ/D₁ + (1 − μ)/D₂, β_x = b c_e;
its (σ, σ) block is the one-point matrix αS + b² c_e K + γI. Hence, with s = (1/p) Tr K R_z,

    own(z) = 1 − c_e + β_x² ψ_p s,        lin(z) = b β_x ψ_p s,

and, with T(X, Y) = (1/p) Tr X Q_z Y Q_w from :func:`~.basis.basis_table`,
G₁ = 1/(D₁_z D₁_w), G₂ = (1 − μ)/(D₂_z D₂_w) and the two-resolvent coefficients θ_g
(ρ₁ = ψ_p/ψ_n, ρ₂ = μ ψ_p/ψ_n)

    θ_h = ρ_h T(C_h, Y) + Σ_g ρ_h T(C_h, C_g) G_g θ_g          (a 2×2 linear system),
    (1/p) Tr X R_z Y R_w = T(X, Y) + Σ_g G_g θ_g T(X, C_g),
    H_Y = β_x^z β_x^w ψ_p T(K, Y) + Σ_g G_g θ_g L_g,
    L_g = β_x^z β_x^w ψ_p T(K, C_g) − c_g ψ_p (β_x^z s_z + β_x^w s_w) + e_g,

with (c₁, e₁) = (μ b, μ) and (c₂, e₂) = (b, 1). At μ = 0 (m = ∞): c_e = 1, θ₂ = 0, and
own = b²ψ_p s, lin = b²ψ_p s, H_Y = b² F_Y (the noise-averaged formulas of
:mod:`.two_point`); the tests check μ = 0 against them and every μ against
Gaussian-equivalent matrices at finite size.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .onepoint import solve2, terms
from .params import SpectralParams
from .basis import basis_table

__all__ = ["sample_terms", "v_traces", "sample_pair_table"]


class _Point(NamedTuple):
    """The fields of a one-point solution that the traces use."""

    z: jax.Array
    q: jax.Array
    r: jax.Array
    s: jax.Array


def sample_terms(P: SpectralParams, q, r, s, z):
    """D₁, D₂ and c_e = μ/D₁ + (1 − μ)/D₂ of the m-sample model at one-point solutions.

    Args:
        P: parameters with ``inv_m`` given.
        q, r, s: the one-point solution at z.
        z: the (absolute) points.

    Returns:
        ``(D1, D2, c_e)``.
    """
    mu = P.inv_m
    D1 = terms((q, r, s), z - P.s2, P)[0]
    D2 = 1.0 + (P.psi_p / P.psi_n) * mu * (P.b2 * s + P.s2 * q)
    return D1, D2, mu / D1 + (1.0 - mu) / D2


def v_traces(P: SpectralParams, sol):
    """``(lin, own)`` = ((1/d) Tr V_mᵀ R_z b W̃, (1/d) Tr V_mᵀ R_z V_m) at one-point solutions.

    Args:
        P: parameters (``inv_m`` None gives the m = ∞ values b²ψ_p s for both).
        sol: a :class:`~.two_point.OnePoint` (or any record with z, q, r, s).

    Returns:
        ``(lin, own)``, arrays of the shape of ``sol.z``.
    """
    if P.inv_m is None:
        v = P.b2 * P.psi_p * sol.s
        return v, v
    _, _, ce = sample_terms(P, sol.q, sol.r, sol.s, sol.z)
    lin = P.b2 * ce * P.psi_p * sol.s
    own = 1.0 - ce + P.b2 * ce * ce * P.psi_p * sol.s
    return lin, own


def _covariances(P):
    """C₁, C₂ in the basis (I, K, S), and their (σ, ξ) and (ξ, ξ) coefficients."""
    mu, b = P.inv_m, jnp.sqrt(P.b2)
    C1 = (P.v2 + mu * P.s2, mu * P.b2, P.A)
    C2 = (P.s2, P.b2, 0.0 * P.A)
    return (C1, C2), (mu * b, b), (mu, 1.0)


def _contract(T, x, y):
    """T(X, Y) for X = Σ_i x_i B_i, Y = Σ_j y_j B_j in the basis (I, K, S)."""
    return sum(x[i] * y[j] * T[i][j] for i in range(3) for j in range(3))


def _pairs(P, T, a, b, Ys):
    """``[(F_Y, H_Y) for Y in Ys]``: (1/p) Tr K R_z Y R_w and H_Y, each Y given in the basis
    (I, K, S). Everything but the right-hand side of the θ system is shared by the Ys."""
    (C1, C2), cross, xixi = _covariances(P)
    ratio = P.psi_p / P.psi_n
    rho = (ratio, ratio * P.inv_m)
    D1z, D2z, cez = sample_terms(P, a.q, a.r, a.s, a.z)
    D1w, D2w, cew = sample_terms(P, b.q, b.r, b.s, b.z)
    G = (1.0 / (D1z * D1w), (1.0 - P.inv_m) / (D2z * D2w))
    C = (C1, C2)
    K = (0.0, 1.0, 0.0)
    # (I − M) θ = rhs with M_hg = ρ_h T(C_h, C_g) G_g, rhs_h = ρ_h T(C_h, Y)
    J = jnp.stack([jnp.stack([(h == g) - rho[h] * _contract(T, C[h], C[g]) * G[g]
                              for g in range(2)]) for h in range(2)])
    T_KC = [_contract(T, K, C[g]) for g in range(2)]
    bxz, bxw = jnp.sqrt(P.b2) * cez, jnp.sqrt(P.b2) * cew
    L = [bxz * bxw * P.psi_p * T_KC[g]
         - cross[g] * P.psi_p * (bxz * a.s + bxw * b.s) + xixi[g] for g in range(2)]
    out = []
    for Y in Ys:
        theta = solve2(J, jnp.stack([rho[h] * _contract(T, C[h], Y) for h in range(2)]))
        T_KY = _contract(T, K, Y)
        F = P.psi_p * (T_KY + sum(G[g] * theta[g] * T_KC[g] for g in range(2)))
        H = bxz * bxw * P.psi_p * T_KY + sum(G[g] * theta[g] * L[g] for g in range(2))
        out.append((F, H))
    return out


def _pair(P, T, a, b, Y):
    """(1/p) Tr K R_z Y R_w and H_Y for one Y given in the basis (I, K, S)."""
    return _pairs(P, T, a, b, (Y,))[0]


def sample_pair_table(P: SpectralParams, a, b, P_pop: SpectralParams | None = None):
    """Two-point traces of the m-sample model at broadcastable one-point solutions a, b.

    Args:
        P: parameters with ``inv_m`` given (the resolvents' model).
        a, b: :class:`~.two_point.OnePoint` solutions at z and w.
        P_pop: parameters of the population matrix Ũ (default ``P``).

    Returns:
        ``(F_K, F_S, F_I, H_pop, H_I)``: F_Y = (1/d) Tr K R_z Y R_w and
        H_Y = (1/d) Tr V_mᵀ R_z Y R_w V_m, Y = Ũ = A S + b² K + (s² + v²) I or I.
    """
    P_pop = P if P_pop is None else P_pop
    arrays = jnp.broadcast_arrays(a.z, a.q, a.r, a.s, b.z, b.q, b.r, b.s)
    shape = arrays[0].shape
    pop = (P_pop.s2 + P_pop.v2, P_pop.b2, P_pop.A)
    basis = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))

    def one(za, qa, ra, sa, zb, qb, rb, sb):
        xa, xb = (qa, ra, sa), (qb, rb, sb)
        T = basis_table(P, xa, za, xb, zb)
        A_ = _Point(za, qa, ra, sa)
        B_ = _Point(zb, qb, rb, sb)
        (FI, HI), (FK, _), (FS, _), (_, Hpop) = _pairs(P, T, A_, B_, (*basis, pop))
        return FK, FS, FI, Hpop, HI

    out = jax.vmap(one)(*(v.reshape(-1) for v in arrays))
    return tuple(o.reshape(shape) for o in out)
