"""The one-point equations of U at complex z: one residual, one Newton step, two strategies.

Unknowns (per p, at spectral parameter z; THEORY.md §4):

    q = (1/p) Tr (U − z)⁻¹,  r = (1/p) Tr W̃ΣW̃ᵀ (U − z)⁻¹,  s = (1/p) Tr W̃W̃ᵀ (U − z)⁻¹.

With A = a_t² e^{−2t}, E the average over ρ_Σ (atoms λ) and, per atom,

    D = 1 + (ψ_p/ψ_n)(A r + v² q),  β = s² − z + v²/D,  Λ = b² + (A/D) λ,
    ℓ = 1/(1 + ψ_p q Λ),

the equations are q = 1/(β + E[Λℓ]), r = q E[λℓ], s = q E[ℓ]. The solvers iterate on
x = (q, r) with the residuals

    F_q = q β + q E[Λℓ] − 1,   F_r = r − q E[λℓ].

Equivalent forms. With ŝ = b²ψ_p + 1/q and r̂ = ψ_pA/D one has ŝ + λr̂ = 1/(qℓ), and
ψ_p q F_q = q² [ψ_p (s² − z) + ψ_p v²/D] + (1 − ψ_p) q − s, the "q²" form of the same
equation. The factor ψ_p q does not vanish at a solution, so both forms have the same
solutions, and det ∂F/∂(q, r) = 0 (an edge of the spectrum, a fold) is the same condition.
F_q stays finite at the atom of U, where q has a pole: there q β → finite, q v²/D → ψ_n/ψ_p
and q E[Λℓ] → 1/ψ_p.

Finitely many noise samples (m draws per training point, μ = 1/m = ``P.inv_m``). The
Gaussian-equivalent U_m is a sum of two independent Gram matrices (docs/theory.md, "Finitely
many noise samples"), whose deterministic equivalent is again (β + W̃ΛW̃ᵀ)⁻¹, now with D₁,
D₂ that also depend on s (:func:`terms`). The unknowns are then x = (q, r, s), with the
third residual F_s = s − q E[ℓ]; at μ = 0 F_q and F_r do not depend on s and reduce to
the m = ∞ equations. ``P.inv_m = None`` (m = ∞) keeps the two unknowns (q, r); which case
applies is static (part of the tree structure), so every function below serves both.

Both residuals are evaluated at the shifted parameter w = z − s², so that s² − z = −w
carries no cancellation: at large t whole parts of the spectrum sit within 1e-9 of s²,
where λ − s² computed from an absolute λ would keep only ~7 digits. The residual also takes
the deformation U → U + ζ_I I + ζ_K K + ζ_S S (β += ζ_I, Λ += ζ_K + ζ_S λ), whose
ζ-derivatives give the diagonal two-point traces. The residuals are holomorphic in
(q, r, w, ζ), so complex Newton with the holomorphic Jacobian is Newton on the real and
imaginary parts.

Branch. The physical solution is the Stieltjes transform of a probability measure:
analytic in the upper half-plane, q ~ −1/z at large |z|, Im q > 0 and Im r, Im s ≥ 0 when
Im z > 0 (Herglotz), real on the real axis outside the support. Both strategies start far
above the spectrum, at w + iε₀, from the large-|z| expansion, and follow the solution down
the vertical line to w (Euler tangent predictor, Newton corrector), so the branch is the
one connected to q ~ −1/z inside the upper half-plane:

- :func:`adaptive`: geometric steps in ε with step control (a step is rejected and
  shortened when Newton does not converge, when the corrector moves far from the predictor,
  a sign of a jump to another branch, or when a Herglotz sign flips). Used on the real axis
  (ε → 0⁺), where steps must shorten near edges.
- :func:`fixed`: a fixed geometric schedule ε_k = ε₀ γ^k, then ε = 0, with a fixed number
  of Newton steps each; no control flow, so it vectorises over any batch of points (the
  Talbot nodes of the learning curves, off the real axis).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .params import SpectralParams, kappa, mean_eigenvalue

__all__ = ["RESIDUAL_TOL", "ZETA0", "terms", "unknowns", "residual", "relative_residual",
           "jacobian", "expect", "solve2", "solve", "newton", "tangent", "values",
           "herglotz_ok", "asymptotic_start", "at_root", "AdaptivePath", "adaptive", "fixed"]

#: Largest relative residual of a converged one-point solution.
RESIDUAL_TOL = 1e-10

#: No deformation of U (ζ_I, ζ_K, ζ_S) = 0.
ZETA0 = (0.0, 0.0, 0.0)

# Herglotz signs: tolerance on Im r, Im s above the axis (rounding of values ~0), and on
# Im q, Im s on the axis (a complex solution at real z means z lies on the support).
_SIGN_TOL = 1e-12
_REAL_TOL = 1e-8


# ----------------------------------------------------------------------------- equations

def terms(x, w, P: SpectralParams, zeta=ZETA0):
    """D, β, Λ (per atom) and ℓ (per atom) at x = (q, r) or (q, r, s) and w = z − s².

    With m noise samples (μ = ``P.inv_m`` given; x = (q, r, s)) D is D₁ = 1 + δ₁ and

        δ₂ = (ψ_p/ψ_n) μ (b² s + s² q),   δ₁ = (ψ_p/ψ_n)(A r + v² q) + δ₂,
        β = −w + v²/D₁ − s² [μ δ₁/D₁ + (1 − μ) δ₂/D₂],   D₂ = 1 + δ₂,
        Λ = b² [μ/D₁ + (1 − μ)/D₂] + (A/D₁) λ,

    which at μ = 0 (δ₂ = 0) are the m = ∞ forms D = 1 + (ψ_p/ψ_n)(A r + v² q),
    β = −w + v²/D, Λ = b² + (A/D)λ (docs/theory.md, "Finitely many noise samples").

    Args:
        x: (q, r) (``P.inv_m`` None) or (q, r, s) (``P.inv_m`` given), complex.
        w: shifted spectral parameter z − s_t².
        P: the parameters.
        zeta: deformation (ζ_I, ζ_K, ζ_S) of U.

    Returns:
        ``(D, beta, Lam, ell)``.
    """
    q, r = x[0], x[1]
    ratio = P.psi_p / P.psi_n
    if P.inv_m is None:
        D = 1.0 + ratio * (P.A * r + P.v2 * q)
        beta = zeta[0] - w + P.v2 / D
        b2 = P.b2
    else:
        mu = P.inv_m
        d2 = ratio * mu * (P.b2 * x[2] + P.s2 * q)
        D = 1.0 + ratio * (P.A * r + P.v2 * q) + d2
        D2 = 1.0 + d2
        # γ − z of the effective matrix written in w = z − s²: no cancellation near s²
        beta = zeta[0] - w + P.v2 / D - P.s2 * (mu * (D - 1.0) / D + (1.0 - mu) * d2 / D2)
        b2 = P.b2 * (mu / D + (1.0 - mu) / D2)
    Lam = b2 + zeta[1] + (P.A / D + zeta[2]) * P.atoms
    ell = 1.0 / (1.0 + P.psi_p * q * Lam)
    return D, beta, Lam, ell


def unknowns(P: SpectralParams) -> int:
    """Number of unknowns of the one-point equations: 2, (q, r), for m = ∞ (``P.inv_m``
    None), where the s-equation decouples; 3, (q, r, s), with m noise samples."""
    return 2 if P.inv_m is None else 3


def expect(P, f):
    """E_Σ[f] over the atoms of ρ_Σ (last axis)."""
    return jnp.sum(P.weights * f, axis=-1)


def residual(x, w, P: SpectralParams, zeta=ZETA0):
    """The residuals (F_q, F_r) = (q β + q E[Λℓ] − 1, r − q E[λℓ]), and F_s = s − q E[ℓ]
    with m noise samples.

    Args:
        x: (q, r) or (q, r, s) (see :func:`terms`), complex.
        w: shifted spectral parameter z − s_t².
        P: the parameters.
        zeta: deformation (ζ_I, ζ_K, ζ_S) of U.

    Returns:
        A complex array of the shape of ``x``.
    """
    q, r = x[0], x[1]
    _, beta, Lam, ell = terms(x, w, P, zeta)
    F = [q * beta + q * expect(P, Lam * ell) - 1.0, r - q * expect(P, P.atoms * ell)]
    if P.inv_m is not None:
        F.append(x[2] - q * expect(P, ell))
    return jnp.stack(F)


def relative_residual(x, w, P: SpectralParams):
    """max over the equations of ``|residual|`` / (sum of the magnitudes of its terms).

    The terms of F_q are −q w, q v²/D, q Λℓ (per atom) and −1 (with m noise samples also
    the s²-terms of β, together); those of F_r are r and q λℓ (per atom), those of F_s
    are s and q ℓ (per atom). Non-finite values give ``inf``.
    """
    q, r = x[0], x[1]
    D, beta, Lam, ell = terms(x, w, P)
    t_w, t_v = -q * w, q * P.v2 / D
    t_L, t_r = q * Lam * ell, q * P.atoms * ell
    t_n = q * beta - t_w - t_v  # the s²-terms of β (0 for m = ∞)
    fq = t_w + t_v + expect(P, t_L) - 1.0
    scale_q = jnp.abs(t_w) + jnp.abs(t_v) + expect(P, jnp.abs(t_L)) + 1.0
    if P.inv_m is not None:
        fq = fq + t_n
        scale_q = scale_q + jnp.abs(t_n)
    fr = r - expect(P, t_r)
    scale_r = jnp.abs(r) + expect(P, jnp.abs(t_r))
    rel = jnp.maximum(jnp.abs(fq) / scale_q, jnp.abs(fr) / scale_r)
    if P.inv_m is not None:
        t_s = q * ell
        rel = jnp.maximum(rel, jnp.abs(x[2] - expect(P, t_s))
                          / (jnp.abs(x[2]) + expect(P, jnp.abs(t_s))))
    return jnp.where(jnp.isfinite(rel), rel, jnp.inf)


#: ∂F/∂x, the holomorphic 2×2 (m = ∞) or 3×3 Jacobian: ``jacobian(x, w, P, zeta=ZETA0)``.
jacobian = jax.jacfwd(residual, argnums=0, holomorphic=True)


def solve2(J, f):
    """Solve the 2×2 system J y = f by Cramer's rule (vmappable, no pivoting needed)."""
    det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
    return jnp.stack([(J[1, 1] * f[0] - J[0, 1] * f[1]) / det,
                      (J[0, 0] * f[1] - J[1, 0] * f[0]) / det])


def _adjugate3(J):
    """Adjugate of a 3×3 matrix (transposed cofactors): J adj(J) = det(J) I."""
    def c(i, j):  # cofactor (i, j)
        r = [k for k in range(3) if k != i]
        s = [k for k in range(3) if k != j]
        return (-1) ** (i + j) * (J[r[0], s[0]] * J[r[1], s[1]] - J[r[0], s[1]] * J[r[1], s[0]])
    return jnp.stack([jnp.stack([c(j, i) for j in range(3)]) for i in range(3)])


def solve(J, f):
    """Solve J y = f for the 2×2 (m = ∞) or 3×3 (m noise samples) Jacobian by Cramer's
    rule (the size is static; small, so no pivoting and fast compilation). The 3×3 case is
    adj(J) f / det(J): linear in f in a form reverse mode can transpose."""
    if f.shape[0] == 2:
        return solve2(J, f)
    adj = _adjugate3(J)
    det = J[0, 0] * adj[0, 0] + J[0, 1] * adj[1, 0] + J[0, 2] * adj[2, 0]
    return (adj @ f) / det


def newton(x, w, P: SpectralParams, iters: int):
    """``iters`` Newton steps on the residual at w (a ``fori_loop``)."""
    def body(_, x):
        return x - solve(jacobian(x, w, P), residual(x, w, P))
    return jax.lax.fori_loop(0, iters, body, x)


@jax.custom_jvp
def at_root(x, w, P: SpectralParams):
    """Attach implicit-function derivatives to a converged root x of F(x; w, P) = 0.

    The value is ``x`` itself. Its derivative is dx = −J⁻¹ (∂F/∂w dw + ∂F/∂P dP) with
    J = ∂F/∂x at the root (the implicit-function theorem), whatever iterations produced
    ``x``: the solvers run their loops on ``jax.lax.stop_gradient`` of their inputs, so
    that no derivative is taken through the continuation loops (``while_loop`` has no reverse-mode
    rule, and differentiating Newton iterations would only approximate this derivative).
    Forward mode uses the rule below; reverse mode transposes its tangent map, which is
    linear in (dw, dP).

    Args:
        x: (q, r) or (q, r, s), a converged root.
        w: its shifted spectral parameter z − s_t².
        P: the parameters.

    Returns:
        ``x``.
    """
    return x


@at_root.defjvp
def _at_root_jvp(primals, tangents):
    x, w, P = primals
    _, dw, dP = tangents
    _, dF = jax.jvp(lambda w, P: residual(x, w, P), (w, P), (dw, dP))
    return x, -solve(jacobian(x, w, P), dF)


def tangent(x, w, P: SpectralParams):
    """dx/dz along the solution: −J⁻¹ ∂F/∂w (only F_q depends on w: ∂F_q/∂w = −q)."""
    dfdw = jnp.zeros_like(x).at[0].set(-x[0])
    return -solve(jacobian(x, w, P), dfdw)


def values(x, w, P: SpectralParams):
    """(q, r, s, D) at a solution x: s = q E[ℓ] for x = (q, r), s = x[2] for x = (q, r, s)."""
    D, _, _, ell = terms(x, w, P)
    s = x[0] * expect(P, ell) if P.inv_m is None else x[2]
    return x[0], x[1], s, D


def herglotz_ok(q, r, s, w):
    """The signs of Stieltjes transforms of positive measures.

    Im w > 0: Im q > 0 and Im r, Im s ≥ 0 (up to rounding of values near 0). Real w: q and
    s real (a complex solution at real z means z lies on the support).
    """
    upper = ((jnp.imag(q) > 0) & (jnp.imag(r) >= -_SIGN_TOL * jnp.abs(r))
             & (jnp.imag(s) >= -_SIGN_TOL * jnp.abs(s)))
    real = ((jnp.abs(jnp.imag(q)) <= _REAL_TOL * jnp.abs(q))
            & (jnp.abs(jnp.imag(s)) <= _REAL_TOL * jnp.abs(s)))
    return jnp.where(jnp.imag(w) > 0, upper, real)


def _signs_ok(x, w, P):
    q, r, s, _ = values(x, w, P)
    return herglotz_ok(q, r, s, w)


def asymptotic_start(w, P: SpectralParams):
    """Large-|z| start: q = −1/z − m₁/z² (m₁ = (1/p) Tr U), r = −κ/z (and s = −1/z with m
    noise samples: (1/p) Tr W̃W̃ᵀ → 1), at z = w + s²."""
    z = w + P.s2
    x = [-1.0 / z - mean_eigenvalue(P) / z**2, -kappa(P) / z]
    if P.inv_m is not None:
        x.append(-1.0 / z)
    return jnp.stack(x)


# ----------------------------------------------------------------------------- adaptive

# Controls of the adaptive continuation. ε₀ (set by the caller, ~30 × the spectral bound)
# is far above the support, where the asymptotic start is accurate to O(|z|⁻³).
_ADAPT_NEWTON = 6
_ADAPT_MAX_STEPS = 400
_ACCEPT_TOL = 1e-9      # corrector residual needed to accept a continuation step
_JUMP_TOL = 0.5         # largest relative corrector move accepted (branch-jump guard)
_FIRST_FACTOR = 0.3     # first ε ratio tried; afterwards adapted in [_MIN_FACTOR, 1)
_MIN_FACTOR = 1e-3


class AdaptivePath(NamedTuple):
    """End of an adaptive continuation.

    Attributes:
        x: (q, r) (or (q, r, s)) at the last accepted point.
        w: that point, w = λ − s² + iε (shifted).
        done: True when the target ε was reached.
        steps: continuation steps taken (accepted and rejected).
    """

    x: jax.Array
    w: jax.Array
    done: jax.Array
    steps: jax.Array


class _State(NamedTuple):
    x: jax.Array
    eps: jax.Array
    factor: jax.Array
    steps: jax.Array
    done: jax.Array
    failed: jax.Array


def adaptive(lam, eps_final, eps_start, P: SpectralParams) -> AdaptivePath:
    """Follow the physical solution along w = lam + iε from ε = eps_start to eps_final.

    Args:
        lam: shifted real part λ − s_t² (one point; vmap for many).
        eps_final: target Im z (> 0).
        eps_start: starting Im z, far above the spectrum.
        P: the parameters.

    Returns:
        :class:`AdaptivePath`.
    """
    # the continuation runs on values only; derivatives come from at_root at the end
    lam_in, eps_in, P_in = lam, eps_final, P
    lam, eps_final, eps_start, P = jax.lax.stop_gradient((lam, eps_final, eps_start, P))
    w0 = lam + 1j * eps_start
    x0 = newton(asymptotic_start(w0, P), w0, P, 2 * _ADAPT_NEWTON)
    ok0 = (relative_residual(x0, w0, P) < _ACCEPT_TOL) & _signs_ok(x0, w0, P)
    state = _State(x0, eps_start, jnp.asarray(_FIRST_FACTOR), jnp.asarray(0),
                   jnp.asarray(False), ~ok0)

    def cond(st):
        return ~st.done & ~st.failed & (st.steps < _ADAPT_MAX_STEPS)

    def body(st):
        eps_new = jnp.maximum(st.eps * st.factor, eps_final)
        w_old, w_new = lam + 1j * st.eps, lam + 1j * eps_new
        pred = st.x + tangent(st.x, w_old, P) * (w_new - w_old)
        pred = jnp.where(jnp.all(jnp.isfinite(pred)), pred, st.x)
        x_new = newton(pred, w_new, P, _ADAPT_NEWTON)
        move = jnp.max(jnp.abs(x_new - pred) / (jnp.abs(pred) + 1e-300))
        accept = ((relative_residual(x_new, w_new, P) < _ACCEPT_TOL)
                  & _signs_ok(x_new, w_new, P) & (move < _JUMP_TOL)
                  & jnp.all(jnp.isfinite(x_new)))
        # accepted: lengthen the next step (square the ratio); rejected: halve the log-step
        factor = jnp.where(accept, jnp.maximum(st.factor**2, _MIN_FACTOR), jnp.sqrt(st.factor))
        return _State(
            x=jnp.where(accept, x_new, st.x),
            eps=jnp.where(accept, eps_new, st.eps),
            factor=factor,
            steps=st.steps + 1,
            done=accept & (eps_new <= eps_final),
            # a ratio this close to 1 means the path cannot be followed any further
            failed=factor > 1.0 - 1e-6,
        )

    st = jax.lax.while_loop(cond, body, state)
    # the target ε may depend on the parameters (a multiple of the spectral bound)
    w_end = lam_in + 1j * jnp.where(st.done, eps_in, st.eps)
    # polish: steps are accepted at a residual of _ACCEPT_TOL, and derivatives by the
    # implicit-function theorem are only as good as the root
    x_pol = newton(st.x, lam + 1j * st.eps, P, 2)
    x_pol = jnp.where(jnp.all(jnp.isfinite(x_pol)), x_pol, st.x)
    x_end = at_root(x_pol, w_end, P_in)
    return AdaptivePath(x_end, w_end, st.done, st.steps)


# ----------------------------------------------------------------------------- fixed

# Fixed schedule: ε_k = ε₀ γ^k (k = 0..STEPS−1), then ε = 0. With γ = 0.75 and 100 steps
# the last ε is 3e-13 ε₀, far below any Im z the curves use (|Im z| ≳ N/(cτ)·0.1).
_RATIO = 0.75
_FIXED_STEPS = 100
_NEWTON_PER_STEP = 3
_NEWTON_FINAL = 8


def fixed(w, eps0, P: SpectralParams):
    """Continue from w + iε₀ to w (Im w ≥ 0) on the fixed schedule; returns x.

    Args:
        w: shifted target z − s_t² (one point, Im w ≥ 0; vmap for many).
        eps0: starting height, far above the spectrum.
        P: the parameters.

    Returns:
        x = (q, r) (or (q, r, s)) at w, a complex array (check it with :func:`relative_residual` and
        :func:`herglotz_ok`).
    """
    # the continuation runs on values only; derivatives come from at_root at the end
    w_in, P_in = w, P
    w, eps0, P = jax.lax.stop_gradient((w, eps0, P))
    w0 = w + 1j * eps0
    x = newton(asymptotic_start(w0, P), w0, P, _NEWTON_FINAL)

    def step(k, x):
        eps_old = eps0 * _RATIO ** (k - 1.0)
        eps_new = jnp.where(k < _FIXED_STEPS, eps0 * _RATIO ** k, 0.0)
        w_old, w_new = w + 1j * eps_old, w + 1j * eps_new
        pred = x + tangent(x, w_old, P) * (w_new - w_old)
        pred = jnp.where(jnp.all(jnp.isfinite(pred)), pred, x)
        return newton(pred, w_new, P, _NEWTON_PER_STEP)

    x = jax.lax.fori_loop(1, _FIXED_STEPS + 1, step, x)
    x = newton(x, w, P, _NEWTON_FINAL)
    return at_root(x, w_in, P_in)
