"""Finitely many noise samples: the one-point equations of U_m and their m = ∞ limit.

Model (docs/theory.md, "Finitely many noise samples"): U_m = (1/(nm)) Σ_ν Σ_j σ_νj σ_νjᵀ with
m fixed draws per training point. In the Gaussian-equivalent picture σ_νj = g_ν + e_νj,
g_ν ~ N(0, C_g) shared by the m draws of point ν, e_νj ~ N(0, C_e) independent, with
C_g = A S + v² I and C_e = b² K + s² I (K = W̃W̃ᵀ, S = W̃ΣW̃ᵀ, A = a²e^{−2t}). Notation:
ρ = ψ_p/ψ_n, μ = 1/m, q = (1/p)Tr G, r = (1/p)Tr S G, s = (1/p)Tr K G, G = (U_m − z)⁻¹,
w = z − s².

Checked here:

(i)   Helmert rotation (exact, m = 2, 3, 4, symbolic 2-vectors): the Helmert matrix H
      (first row 1/√m) is orthogonal, and with ē = (1/m)Σ_j e_j, φ_k = Σ_j H_kj e_j,
      Σ_j (g + e_j)(g + e_j)ᵀ = m (g + ē)(g + ē)ᵀ + Σ_{k≥1} φ_k φ_kᵀ; for iid e_j of any
      covariance C the φ_k (k ≥ 1) are uncorrelated with covariance C and uncorrelated with
      ē, whose covariance is C/m. Hence U_m = (1/n)Σ_ν y_ν y_νᵀ + (1/(nm))Σ_{ν,k≥1} φ φᵀ
      with n vectors y ~ N(0, C₁ = C_g + C_e/m) and n(m − 1) vectors φ ~ N(0, C₂ = C_e),
      independent (Gaussian and uncorrelated).
(ii)  The effective matrix of the deterministic equivalent of that sum of Gram matrices,
      C₁/(1 + δ₁) + (1 − μ) C₂/(1 + δ₂) with δ₁ = (1/n)Tr C₁G, δ₂ = (1/(nm))Tr C₂G, is
      α S + β K + γ I with α = A/D₁, β = b²[μ/D₁ + (1 − μ)/D₂],
      γ = (v² + μs²)/D₁ + (1 − μ)s²/D₂ (D_i = 1 + δ_i), and
      δ₁ = ρ[A r + v² q + μ(b² s + s² q)], δ₂ = ρ μ (b² s + s² q) (bilinear algebra in the
      basis (S, K, I); exact).
(iii) The shifted form the library solves: γ − z = −w + v²/D₁ − s²[μδ₁/D₁ + (1 − μ)δ₂/D₂]
      (exact), and the residuals F_q = q(γ − z) + q E[Λℓ] − 1, F_r = r − q E[λℓ],
      F_s = s − q E[ℓ] (Λ = β + αλ, ℓ = 1/(1 + ψ_p q Λ)) are THEORY.md §4's equations with
      b² → β, A/D → α, s² + v²/D → γ (the ŝ, r̂ and q² forms; symbolic, two atoms), and
      F_q = 0 is the trace identity α r + β s + (γ − z) q = 1, i.e. (1/p)Tr(M − z)G = 1.
(iv)  m = ∞: at μ = 0 (and as the limit m → ∞ of μ = 1/m) δ₂ = 0, D₁ = D = 1 + ρ(A r + v² q),
      α = A/D, β = b², γ = s² + v²/D, so F_q and F_r are exactly the §4 residuals and do
      not depend on s: the s-equation decouples and the m = ∞ system is the (q, r) one.
(v)   m = 1: the second group is empty ((1 − μ) = 0) and (α, β, γ) = C₁/D₁ with
      C₁ = A S + b² K + (v² + s²) I, the covariance of σ(W̃x_t) for noisy inputs x_t, i.e. the
      deterministic equivalent of a single Gram matrix.
(vi)  The library's float implementation (rfdiff/_theory/onepoint.py, ``terms`` and
      ``residual`` with ``inv_m`` = μ) agrees with (ii)–(iii) to 1e-12 at random complex
      points, for μ = 1, 1/2, 1/3, 0, and its μ = 0 residual equals the m = ∞ (two-unknown)
      residual to rounding.

What is not proved here: the Gaussian equivalence of the m draws and the deterministic
equivalent of a sum of independent Gram matrices (Couillet & Liao, Random Matrix Methods for
Machine Learning, 2022, §2.2), nor the second-level average over W̃ (the same step as for
m = ∞). They are checked against finite Gaussian-equivalent and real (``monte_carlo``)
matrices in tests/test_noise_samples.py and benchmarks/bench_noise_samples.py.

Used by rfdiff/_theory/onepoint.py (``terms`` with ``P.inv_m``).
"""

from __future__ import annotations

import random

import sympy as sp

# ----------------------------------------------------------------------------- (i)


def helmert(m: int) -> sp.Matrix:
    """The m×m Helmert matrix: first row 1/√m, row k = (1, …, 1, −k, 0, …)/√(k(k+1))."""
    rows = [[sp.Integer(1) / sp.sqrt(m)] * m]
    for k in range(1, m):
        rows.append([1 / sp.sqrt(k * (k + 1))] * k + [-k / sp.sqrt(k * (k + 1))]
                    + [0] * (m - k - 1))
    return sp.Matrix(rows)


def _check_helmert(m: int) -> None:
    H = helmert(m)
    assert sp.simplify(H * H.T - sp.eye(m)) == sp.zeros(m, m), f"Helmert m={m} not orthogonal"
    g = sp.Matrix(sp.symbols("g0 g1"))
    e = [sp.Matrix(sp.symbols(f"e{j}_0 e{j}_1")) for j in range(m)]
    ebar = sum(e, sp.zeros(2, 1)) / m
    phi = [sum((H[k, j] * e[j] for j in range(m)), sp.zeros(2, 1)) for k in range(1, m)]
    lhs = sum(((g + ej) * (g + ej).T for ej in e), sp.zeros(2, 2))
    rhs = m * (g + ebar) * (g + ebar).T + sum((f * f.T for f in phi), sp.zeros(2, 2))
    assert sp.simplify(sp.expand(lhs - rhs)) == sp.zeros(2, 2), \
        f"Σ_j (g + e_j)(g + e_j)ᵀ ≠ m(g + ē)(g + ē)ᵀ + Σ φφᵀ at m={m}"
    # covariances for iid e_j with covariance C: cov(Σ_j a_j e_j, Σ_j b_j e_j) = (a·b) C
    ones = [sp.Integer(1) / m] * m
    for k in range(1, m):
        for ll in range(1, m):
            dot = sum(H[k, j] * H[ll, j] for j in range(m))
            assert sp.simplify(dot - (1 if k == ll else 0)) == 0, "cov(φ_k, φ_l) ≠ δ_kl C"
        assert sp.simplify(sum(ones[j] * H[k, j] for j in range(m))) == 0, "cov(ē, φ_k) ≠ 0"
    assert sp.simplify(sum(o * o for o in ones) - sp.Integer(1) / m) == 0, "cov(ē) ≠ C/m"


# ----------------------------------------------------------------------------- (ii)-(v)

A, b2, v2, s2, rho, psi_p, mu = sp.symbols("A b2 v2 s2 rho psi_p mu")
q, r, s, z = sp.symbols("q r s z")
LAMS = sp.symbols("l1 l2", positive=True)
W1 = sp.Symbol("w1")
WEIGHTS = (W1, 1 - W1)


def _E(vals):
    return sum(w * v for w, v in zip(WEIGHTS, vals))


def deltas(mu_=mu):
    """δ₁, δ₂ from the traces (q, r, s): (1/p)Tr X G for X = a S + c K + e I is ar + cs + eq."""
    def trace(coef):  # coefficients in the basis (S, K, I)
        return coef[0] * r + coef[1] * s + coef[2] * q
    C1 = (A, mu_ * b2, v2 + mu_ * s2)
    C2 = (0, b2, s2)
    d1 = rho * trace(C1)              # (1/n)Tr C₁G = (p/n)(1/p)Tr C₁G
    d2 = rho * mu_ * trace(C2)        # (1/(nm))Tr C₂G
    return d1, d2


def effective(mu_=mu):
    """(α, β, γ) of C₁/D₁ + (1 − μ)C₂/D₂ and (D₁, D₂), from the basis coefficients."""
    d1, d2 = deltas(mu_)
    D1, D2 = 1 + d1, 1 + d2
    C1 = (A, mu_ * b2, v2 + mu_ * s2)
    C2 = (0, b2, s2)
    alpha, beta, gamma = (C1[i] / D1 + (1 - mu_) * C2[i] / D2 for i in range(3))
    return alpha, beta, gamma, D1, D2


def residuals(mu_=mu, coefficients=None):
    """(F_q, F_r, F_s) of the m-sample equations with (α, β, γ) of :func:`effective` (or
    the given ``coefficients``)."""
    alpha, beta, gamma = coefficients or effective(mu_)[:3]
    Lam = [beta + alpha * lam for lam in LAMS]
    ell = [1 / (1 + psi_p * q * L) for L in Lam]
    return (q * (gamma - z) + q * _E([L * e for L, e in zip(Lam, ell)]) - 1,
            r - q * _E([lam * e for lam, e in zip(LAMS, ell)]),
            s - q * _E(ell))


def _zero(expr) -> bool:
    return sp.cancel(sp.together(expr)) == 0


def _check_effective():
    alpha, beta, gamma, D1, D2 = effective()
    d1, d2 = deltas()
    want = (A / D1, b2 * (mu / D1 + (1 - mu) / D2),
            (v2 + s2 * mu) / D1 + s2 * (1 - mu) / D2)
    for got, ref, name in zip((alpha, beta, gamma), want, ("α", "β", "γ")):
        assert sp.simplify(got - ref) == 0, f"{name} of the effective matrix"
    assert sp.expand(d1 - rho * (A * r + v2 * q + mu * (b2 * s + s2 * q))) == 0, "δ₁"
    assert sp.expand(d2 - rho * mu * (b2 * s + s2 * q)) == 0, "δ₂"
    # (iii) the shifted form, w = z − s²
    w = z - s2
    shifted = -w + v2 / D1 - s2 * (mu * d1 / D1 + (1 - mu) * d2 / D2)
    assert sp.simplify(gamma - z - shifted) == 0, "γ − z in w = z − s²"


def _check_theory_forms():
    # the level-2 equations hold for any effective matrix αS + βK + γI: free symbols
    alpha, beta, gamma = sp.symbols("alpha beta gamma")
    Fq, Fr, Fs = residuals(coefficients=(alpha, beta, gamma))
    # THEORY.md §4 with b² → β, ψ_pA/D → ψ_pα, s² + v²/D → γ
    shat, rhat = beta * psi_p + 1 / q, psi_p * alpha
    s_th = _E([1 / (shat + lam * rhat) for lam in LAMS])
    r_th = _E([lam / (shat + lam * rhat) for lam in LAMS])
    assert _zero((s - Fs) - s_th), "s = E[1/(ŝ + λr̂)]"
    assert _zero((r - Fr) - r_th), "r = E[λ/(ŝ + λr̂)]"
    q2_form = psi_p * (gamma - z) + (1 - psi_p) / q - s_th / q**2
    assert _zero(psi_p * Fq / q - q2_form), "the q² form (ψ_p F_q/q)"
    # trace identity at s = s_th, r = r_th: α r + β s + (γ − z) q − 1 = F_q
    ident = alpha * r_th + beta * s_th + (gamma - z) * q - 1
    assert _zero(ident - Fq), "(1/p)Tr(M − z)G = 1 is F_q"


def _check_m_infinity():
    D = 1 + rho * (A * r + v2 * q)
    alpha, beta, gamma, D1, D2 = effective(sp.Integer(0))
    assert sp.simplify(D1 - D) == 0 and D2 == 1, "μ = 0: D₁ = D, D₂ = 1"
    assert sp.simplify(alpha - A / D) == 0 and sp.simplify(beta - b2) == 0
    assert sp.simplify(gamma - (s2 + v2 / D)) == 0, "μ = 0: γ = s² + v²/D"
    Fq, Fr, _ = residuals(sp.Integer(0))
    # the m = ∞ residuals of derivations/two_point.py (iii)
    beta_inf = s2 - z + v2 / D
    Lam = [b2 + A / D * lam for lam in LAMS]
    ell = [1 / (1 + psi_p * q * L) for L in Lam]
    Fq_inf = q * (beta_inf + _E([L * e for L, e in zip(Lam, ell)])) - 1
    Fr_inf = r - q * _E([lam * e for lam, e in zip(LAMS, ell)])
    assert _zero(Fq - Fq_inf) and _zero(Fr - Fr_inf), "μ = 0 residuals ≠ THEORY.md §4"
    assert sp.diff(Fq, s) == 0 and sp.diff(Fr, s) == 0, "μ = 0: F_q, F_r depend on s"
    # the limit m → ∞ of μ = 1/m (not just the value at μ = 0)
    m = sp.Symbol("m", positive=True)
    # (α, β, γ) are rational in μ = 1/m, continuous at μ = 0: their limits are the values
    for got, want in zip(effective(1 / m)[:3], effective(sp.Integer(0))[:3]):
        assert _zero(sp.limit(got, m, sp.oo) - want), "m → ∞ limit of (α, β, γ)"


def _check_m_one():
    alpha, beta, gamma, D1, _ = effective(sp.Integer(1))
    C1 = (A, b2, v2 + s2)  # covariance of σ(W̃x_t): a²W̃Σ_tW̃ᵀ + (v² + s²)I, Σ_t = e^{−2t}Σ + Δ
    for got, c in zip((alpha, beta, gamma), C1):
        assert sp.simplify(got - c / D1) == 0, "m = 1: (α, β, γ) ≠ C₁/D₁"


# ----------------------------------------------------------------------------- (vi)


def _check_library(seed: int = 7) -> None:
    import jax
    import jax.numpy as jnp

    from rfdiff._theory.onepoint import residual, terms
    from rfdiff._theory.params import SpectralParams

    rnd = random.Random(seed)
    vals = {A: 0.7, b2: 0.13, v2: 0.21, s2: 0.05, psi_p: 6.0, W1: 0.3,
            LAMS[0]: 0.5, LAMS[1]: 2.5}
    psi_n = 1.5
    vals[rho] = vals[psi_p] / psi_n
    with jax.enable_x64(True):
        for mu_val in (1.0, 0.5, 1.0 / 3.0, 0.0):
            x = [complex(rnd.uniform(-1, 1), rnd.uniform(0.05, 1)) for _ in range(3)]
            zz = complex(rnd.uniform(0, 3), rnd.uniform(0.01, 1))
            P = SpectralParams(*(jnp.asarray(vals[k]) for k in (psi_p,)), jnp.asarray(psi_n),
                               *(jnp.asarray(vals[k]) for k in (A, b2, v2, s2)),
                               jnp.asarray([vals[LAMS[0]], vals[LAMS[1]]]),
                               jnp.asarray([vals[W1], 1 - vals[W1]]),
                               inv_m=jnp.asarray(mu_val))
            xj = jnp.asarray(x)
            wj = zz - vals[s2]
            lib = [complex(v) for v in residual(xj, wj, P)]
            sub = {**vals, mu: mu_val, q: x[0], r: x[1], s: x[2], z: zz}
            ref = [complex(sp.N(F.subs(sub), 30)) for F in residuals()]
            for got, want, name in zip(lib, ref, ("F_q", "F_r", "F_s")):
                assert abs(got - want) <= 1e-12 * (1 + abs(want)), \
                    f"library {name} at μ={mu_val}: {got} vs {want}"
            D_lib = complex(terms(xj, wj, P)[0])
            D_ref = complex(sp.N(effective()[3].subs(sub), 30))
            assert abs(D_lib - D_ref) <= 1e-12 * abs(D_ref), f"library D₁ at μ={mu_val}"
            if mu_val == 0.0:
                P_inf = P._replace(inv_m=None)
                two = [complex(v) for v in residual(xj[:2], wj, P_inf)]
                assert all(abs(a - c) <= 1e-15 * (1 + abs(c)) for a, c in zip(lib[:2], two)), \
                    "μ = 0 residual ≠ the m = ∞ (q, r) residual"


def check() -> None:
    for m in (2, 3, 4):
        _check_helmert(m)
    _check_effective()
    _check_theory_forms()
    _check_m_infinity()
    _check_m_one()
    _check_library()


if __name__ == "__main__":
    check()
    print("noise_samples: all checks passed")
