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

(vii) Joint effective matrix. The stacked vectors (σ_j, ξ_j) = (g + e_j, ξ_j) ∈ R^{p+d},
      e_j = b W̃ ξ_j + s η_j (ξ_j ~ N(0, I_d), η_j ~ N(0, I_p)), written as linear maps of
      independent standard normals (exact, m = 2, 3, p = d = 2, symbolic W̃, C_g and b, s):
      the Helmert mean has covariance C₁ᴶ = [[C₁, μ b W̃], [μ b W̃ᵀ, μ I]] and the differences
      are uncorrelated with it and with each other, with covariance
      C₂ᴶ = [[b²K + s²I, b W̃], [b W̃ᵀ, I]] (the identity of (i) holds for the stacked vectors
      with g → (g, 0), since Σ_j H_kj = 0 for k ≥ 1). C₁ᴶ/D₁ + (1 − μ)C₂ᴶ/D₂ has
      (σ, ξ) block b c_e W̃, (ξ, ξ) block c_e I, c_e = μ/D₁ + (1 − μ)/D₂, and (σ, σ) block
      C_g/D₁ + b² c_e K + [μs²/D₁ + (1 − μ)s²/D₂] I = α S + β K + γ I of (ii), β = b² c_e.
(viii) The κ-expansion (exact rational 3×2 W̃, p = 3, d = 2, ε = 1/κ; "O(εᵏ)" is checked
      as: the remainder divided by εᵏ, in lowest terms, has no pole at ε = 0). For the
      effective matrix Mᴶ = [[P + z, β_x W̃], [β_x W̃ᵀ, c_e I]] (P = αS + βK + (γ − z)I
      positive definite, β_x = b c_e) and D = diag(z I_p, −κ I_d), the (ξ, ξ) block of
      (Mᴶ − D)⁻¹ is ε − ε²(c_e I − β_x² W̃ᵀP⁻¹W̃) + O(ε³) and its (ξ, σ) block is
      −ε β_x W̃ᵀP⁻¹ + O(ε²). For a Gram matrix Z = [[U, V], [Vᵀ, Ξ]] of 7 integer vectors
      (z, w < 0, off the spectrum of U ⪰ 0; R_z = (U − z)⁻¹) the (ξ, ξ) block of (Z − D)⁻¹ is
      ε − ε²(Ξ − VᵀR_zV) + O(ε³), its (ξ, σ) block −ε VᵀR_z + O(ε²), and the (ξ, ξ) block of
      (Z − D_z)⁻¹ diag(Y, 0)(Z − D_w)⁻¹ is ε² VᵀR_zYR_wV + O(ε³). Matching the ε² (own) and
      ε (lin) coefficients of (1/d)Tr, with (1/d)Tr Ξ → 1: own = 1 − c_e + β_x² ψ_p s and
      lin = b β_x ψ_p s, s = (1/p)Tr K P⁻¹ (the library docstring's formulas; exact).
(ix)  Two resolvents. For CJ = [[C₁₁, c W̃], [c W̃ᵀ, e I]] and Q̄_z = (Mᴶ_z − D_z)⁻¹ at two
      points with different (c_e, γ − z), the (ξ, ξ) block of Q̄_z CJ Q̄_w is ε²[β_x^z β_x^w
      W̃ᵀP_z⁻¹C₁₁P_w⁻¹W̃ − c β_x^z W̃ᵀP_z⁻¹W̃ − c β_x^w W̃ᵀP_w⁻¹W̃ + e I] + O(ε³), whose (1/d)Tr
      is the docstring's L_g = β_x^zβ_x^w ψ_p T(K, C₁₁) − c ψ_p(β_x^z s_z + β_x^w s_w) + e
      (T(X, Y) = (1/p)Tr X P_z⁻¹ Y P_w⁻¹), for the two groups ((c, e) = (μb, μ), (b, 1)) and
      for Ŷ = diag(Y, 0) ((c, e) = (0, 0): β_x^zβ_x^w ψ_p T(K, Y)). The traces that make up
      δ_g and the θ system, (1/p)Tr CJ_h Q̄_z, (1/p)Tr CJ_h Q̄_z Ŷ Q̄_w and
      (1/p)Tr CJ_h Q̄_z CJ_g Q̄_w, are their (σ, σ) values + O(ε): at κ → ∞ the D's and θ's are
      those of U_m alone, and O(ε) changes of them move the blocks above only at O(ε³).
(x)   The float implementation (rfdiff/_theory/noise_samples.py): ``_pair`` on made-up
      tables T(B_i, B_j) (complex, basis (I, K, S)) and one-point records (z, q, r, s) against
      the closed forms θ_h = ρ_h T(C_h, Y) + Σ_g ρ_h T(C_h, C_g) G_g θ_g,
      F_Y = ψ_p[T(K, Y) + Σ_g G_g θ_g T(K, C_g)], H_Y = β_x^zβ_x^w ψ_p T(K, Y) + Σ_g G_g θ_g L_g
      evaluated in 40-digit sympy arithmetic, at μ = 1, 1/2, 1/3, 0; ``sample_pair_table``
      (on the library's own table) likewise, with a population Ũ of other parameters;
      ``v_traces`` against own and lin of (viii); and at μ = 0, for any table, H_Y = b² F_Y
      and F_Y equal to the m = ∞ (``two_point._F_from_table``) values.

What is not proved here: the Gaussian equivalence of the m draws and the deterministic
equivalent of a sum of independent Gram matrices (Couillet & Liao, Random Matrix Methods for
Machine Learning, 2022, §2.2), the second-level average over W̃ (the same step as for
m = ∞), and that the κ → ∞ expansion commutes with the large-size limit. The spectrum is
checked against finite Gaussian-equivalent and real (``monte_carlo``) matrices in
tests/test_noise_samples.py and benchmarks/bench_noise_samples.py.

Used by rfdiff/_theory/onepoint.py (``terms`` with ``P.inv_m``) and
rfdiff/_theory/noise_samples.py (``v_traces``, ``sample_pair_table``).
"""

from __future__ import annotations

import random

import sympy as sp
from sympy.polys.matrices import DomainMatrix

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


# ----------------------------------------------------------------------------- (vii)


def _joint_maps(m: int, G0: sp.Matrix, Wm: sp.Matrix, b, st) -> list[sp.Matrix]:
    """The m vectors (g + e_j, ξ_j) as (p + d) × N matrices acting on independent standard
    normals (ζ, ξ₁, η₁, …, ξ_m, η_m): g = G0 ζ, e_j = b W̃ ξ_j + s η_j. The covariance of
    X ζ and Y ζ is then X Yᵀ."""
    p, d = Wm.shape
    maps = []
    for j in range(m):
        M = sp.zeros(p + d, p + m * (d + p))
        c = p + j * (d + p)  # columns of ξ_j, then of η_j
        M[:p, :p] = G0
        M[:p, c:c + d] = b * Wm
        M[:p, c + d:c + d + p] = st * sp.eye(p)
        M[p:, c:c + d] = sp.eye(d)
        maps.append(M)
    return maps


def _joint(C11, c, e, Wm) -> sp.Matrix:
    """[[C₁₁, c W̃], [c W̃ᵀ, e I]]."""
    return sp.Matrix.vstack(sp.Matrix.hstack(C11, c * Wm),
                            sp.Matrix.hstack(c * Wm.T, e * sp.eye(Wm.shape[1])))


def _check_joint_covariances(m: int) -> None:
    p = d = 2
    b, st = sp.symbols("b s_t", positive=True)
    Wm = sp.Matrix(p, d, sp.symbols(f"W0:{p * d}"))
    G0 = sp.Matrix(p, p, sp.symbols(f"G0:{p * p}"))
    K, Cg, Ip = Wm * Wm.T, G0 * G0.T, sp.eye(p)  # C_g = G0 G0ᵀ stands for A S + v² I
    mu_ = sp.Integer(1) / m
    maps, H = _joint_maps(m, G0, Wm, b, st), helmert(m)
    shape = maps[0].shape
    mean = sum(maps, sp.zeros(*shape)) / m
    diffs = [sum((H[k, j] * maps[j] for j in range(m)), sp.zeros(*shape)) for k in range(1, m)]
    C1J = _joint(Cg + mu_ * (b**2 * K + st**2 * Ip), mu_ * b, mu_, Wm)
    C2J = _joint(b**2 * K + st**2 * Ip, b, 1, Wm)
    zero = sp.zeros(p + d, p + d)
    assert sp.expand(mean * mean.T - C1J) == zero, f"covariance of the mean ≠ C₁ᴶ at m={m}"
    for k, X in enumerate(diffs):
        assert sp.expand(mean * X.T) == zero, f"mean and difference {k + 1} correlated, m={m}"
        for ll, Y in enumerate(diffs):
            want = C2J if k == ll else zero
            assert sp.expand(X * Y.T - want) == zero, f"cov(φ_{k + 1}, φ_{ll + 1}) at m={m}"
    # the effective matrix, with D₁, D₂ free
    D1, D2 = sp.symbols("D1 D2")
    M = C1J / D1 + (1 - mu_) * C2J / D2
    ce = mu_ / D1 + (1 - mu_) / D2
    sig = Cg / D1 + b**2 * ce * K + (mu_ * st**2 / D1 + (1 - mu_) * st**2 / D2) * Ip
    assert sp.simplify(M - _joint(sig, b * ce, ce, Wm)) == zero, \
        f"blocks of C₁ᴶ/D₁ + (1 − μ)C₂ᴶ/D₂ at m={m}"


def _check_joint_effective() -> None:
    # (ii)'s β is b² c_e, and its γ minus the C_g part v²/D₁ is the s² part of the σσ block
    alpha, beta, gamma, D1, D2 = effective()
    ce = mu / D1 + (1 - mu) / D2
    assert sp.simplify(beta - b2 * ce) == 0, "β ≠ b² c_e"
    assert sp.simplify(gamma - v2 / D1 - s2 * (mu / D1 + (1 - mu) / D2)) == 0, "γ ≠ v²/D₁ + s²c_e"
    assert sp.simplify(alpha - A / D1) == 0, "α ≠ A/D₁"


# ----------------------------------------------------------------------------- (viii)-(ix)

EPS = sp.Symbol("epsilon")  # ε = 1/κ
FIELD = sp.QQ.frac_field(EPS)  # exact rational functions of ε, kept in lowest terms
P_DIM, D_DIM = 3, 2
XI, SIG = list(range(P_DIM, P_DIM + D_DIM)), list(range(P_DIM))  # (ξ, σ) index blocks


def _dm(M) -> DomainMatrix:
    """A sympy matrix (rational entries, or rational functions of ε) over Q(ε)."""
    return DomainMatrix.from_Matrix(sp.Matrix(M)).convert_to(FIELD)


def _is_order(X: DomainMatrix, k: int) -> bool:
    """Every entry of X is O(εᵏ) at ε → 0: X/εᵏ in lowest terms has no pole at ε = 0."""
    scaled = X * FIELD.from_sympy(EPS**-k)
    return all(FIELD.to_sympy(FIELD.denom(e)).subs(EPS, 0) != 0
               for row in scaled.to_list() for e in row)


def _tr(X: DomainMatrix, dim: int = D_DIM):
    """(1/dim) Tr X, a sympy rational function of ε."""
    return FIELD.to_sympy(sum(X.to_list()[i][i] for i in range(X.shape[0])) / dim)


def _coefficient(f, k: int):
    """The εᵏ Taylor coefficient of a rational function of ε regular at 0."""
    return sp.diff(sp.cancel(f), EPS, k).subs(EPS, 0) / sp.factorial(k)


def _ints(rnd, rows, cols) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Integer(rnd.randint(-3, 3)))


def _setup(seed: int):
    """W̃ (3×2, rank 2), K = W̃W̃ᵀ, S = W̃ΣW̃ᵀ, b and P(c_e, γ − z) = αS + b²c_e K + (γ − z)I
    (positive definite for γ − z > 0)."""
    rnd = random.Random(seed)
    while True:
        Wm = _ints(rnd, P_DIM, D_DIM)
        if (Wm.T * Wm).det() != 0:
            break
    K, S = Wm * Wm.T, Wm * sp.diag(1, 3) * Wm.T
    alpha, b = sp.Rational(1, 2), sp.Rational(2, 3)

    def P_of(ce, shift):
        return alpha * S + b**2 * ce * K + shift * sp.eye(P_DIM)
    return rnd, Wm, K, S, b, P_of


def _effective_resolvent(P, bx, ce, Wm) -> DomainMatrix:
    """(Mᴶ − D)⁻¹ = [[P, β_x W̃], [β_x W̃ᵀ, (c_e + κ) I]]⁻¹ at κ = 1/ε."""
    return _dm(_joint(P, bx, ce + 1 / EPS, Wm)).inv()


def _check_kappa_expansion(seed: int = 3) -> None:
    rnd, Wm, K, S, b, P_of = _setup(seed)
    ce = sp.Rational(3, 5)
    P = P_of(ce, sp.Rational(2, 7))
    Pinv, bx, Id = P.inv(), b * ce, sp.eye(D_DIM)
    Q = _effective_resolvent(P, bx, ce, Wm)
    xx, xs = Q.extract(XI, XI), Q.extract(XI, SIG)
    assert _is_order(xx - _dm(EPS * Id - EPS**2 * (ce * Id - bx**2 * Wm.T * Pinv * Wm)), 3), \
        "(ξ, ξ) block of (Mᴶ − D)⁻¹"
    assert _is_order(xs + _dm(EPS * bx * Wm.T * Pinv), 2), "(ξ, σ) block of (Mᴶ − D)⁻¹"

    # the exact side: a Gram matrix of 7 integer vectors in R^{p+d}
    X = _ints(rnd, P_DIM + D_DIM, 7)
    Z = X * X.T / 7
    U, V, Xi = Z[:P_DIM, :P_DIM], Z[:P_DIM, P_DIM:], Z[P_DIM:, P_DIM:]

    def exact(zv):  # z < 0 is off the spectrum of U ⪰ 0
        return (_dm(Z - sp.diag(zv * sp.eye(P_DIM), -Id / EPS)).inv(),
                (U - zv * sp.eye(P_DIM)).inv())
    Gz, Rz = exact(sp.Rational(-1, 2))
    Gw, Rw = exact(sp.Rational(-5, 3))
    assert _is_order(Gz.extract(XI, XI) - _dm(EPS * Id - EPS**2 * (Xi - V.T * Rz * V)), 3), \
        "(ξ, ξ) block of (Z − D)⁻¹"
    assert _is_order(Gz.extract(XI, SIG) + _dm(EPS * V.T * Rz), 2), "(ξ, σ) block of (Z − D)⁻¹"
    Y = _ints(rnd, P_DIM, P_DIM)
    Y = Y + Y.T
    Yhat = _dm(sp.diag(Y, sp.zeros(D_DIM, D_DIM)))
    assert _is_order((Gz * Yhat * Gw).extract(XI, XI) - _dm(EPS**2 * V.T * Rz * Y * Rw * V), 3), \
        "(ξ, ξ) block of (Z − D_z)⁻¹ Ŷ (Z − D_w)⁻¹"

    # own and lin read off the coefficients, on both sides
    Vt = _ints(rnd, P_DIM, D_DIM)  # any population V
    own_x = Xi.trace() / D_DIM + _coefficient(_tr(Gz.extract(XI, XI)), 2)
    lin_x = -_coefficient(_tr(Gz.extract(XI, SIG) * _dm(Vt)), 1)
    assert own_x == (V.T * Rz * V).trace() / D_DIM, "own (exact side)"
    assert lin_x == (V.T * Rz * Vt).trace() / D_DIM, "lin (exact side)"
    psi = sp.Rational(P_DIM, D_DIM)
    s_ = (K * Pinv).trace() / P_DIM
    own = 1 + _coefficient(_tr(xx), 2)  # (1/d)Tr Ξ → 1
    lin = -_coefficient(_tr(xs * _dm(b * Wm)), 1)  # Ṽ = b W̃
    assert own == 1 - ce + bx**2 * psi * s_, f"own = {own} ≠ 1 − c_e + β_x² ψ_p s"
    assert lin == b * bx * psi * s_, f"lin = {lin} ≠ b β_x ψ_p s"


def _check_two_resolvents(seed: int = 5) -> None:
    rnd, Wm, K, S, b, P_of = _setup(seed)
    (cz, cw), (gz, gw) = (sp.Rational(3, 5), sp.Rational(4, 7)), (sp.Rational(2, 7), 5)
    Pz, Pw = P_of(cz, gz), P_of(cw, gw)
    Pzi, Pwi = Pz.inv(), Pw.inv()
    bz, bw = b * cz, b * cw
    Qz, Qw = _effective_resolvent(Pz, bz, cz, Wm), _effective_resolvent(Pw, bw, cw, Wm)
    psi = sp.Rational(P_DIM, D_DIM)
    sz, sw = (K * Pzi).trace() / P_DIM, (K * Pwi).trace() / P_DIM

    def T(X_, Y_):
        return (X_ * Pzi * Y_ * Pwi).trace() / P_DIM
    mu_, A_, v2_, s2_ = sp.Rational(1, 3), sp.Rational(3, 4), sp.Rational(1, 5), sp.Rational(1, 7)
    Ip = sp.eye(P_DIM)
    Y = _ints(rnd, P_DIM, P_DIM)
    Y = Y + Y.T
    groups = [(A_ * S + mu_ * b**2 * K + (v2_ + mu_ * s2_) * Ip, mu_ * b, mu_),
              (b**2 * K + s2_ * Ip, b, sp.Integer(1))]
    for C11, c, e in groups + [(Y, 0, 0)]:
        block = (Qz * _dm(_joint(C11, c, e, Wm)) * Qw).extract(XI, XI)
        want = (bz * bw * Wm.T * Pzi * C11 * Pwi * Wm - c * bz * Wm.T * Pzi * Wm
                - c * bw * Wm.T * Pwi * Wm + e * sp.eye(D_DIM))
        assert _is_order(block - _dm(EPS**2 * want), 3), \
            f"(ξ, ξ) block of Q̄_z CJ Q̄_w at c={c}, e={e}"
        L = bz * bw * psi * T(K, C11) - c * psi * (bz * sz + bw * sw) + e
        assert want.trace() / D_DIM == L, f"(1/d)Tr of the ε² block ≠ L_g at c={c}, e={e}"
    # the traces behind δ_g and the θ system: their (σ, σ) values + O(ε)
    Yhat = _dm(sp.diag(Y, sp.zeros(D_DIM, D_DIM)))

    def small(f):  # the scalar f is O(ε)
        return _is_order(_dm([[f]]), 1)
    for Ch, ch, eh in groups:
        CJh = _dm(_joint(Ch, ch, eh, Wm))
        assert small(_tr(CJh * Qz, P_DIM) - (Ch * Pzi).trace() / P_DIM), \
            "(1/p)Tr CJ_h Q̄_z ≠ (1/p)Tr C_h P⁻¹ + O(ε)"
        assert small(_tr(CJh * Qz * Yhat * Qw, P_DIM) - T(Ch, Y)), \
            "(1/p)Tr CJ_h Q̄_z Ŷ Q̄_w ≠ T(C_h, Y) + O(ε)"
        for Cg, cg, eg in groups:
            tr = _tr(CJh * Qz * _dm(_joint(Cg, cg, eg, Wm)) * Qw, P_DIM)
            assert small(tr - T(Ch, Cg)), "(1/p)Tr CJ_h Q̄_z CJ_g Q̄_w ≠ T(C_h, C_g) + O(ε)"


# ----------------------------------------------------------------------------- (x)

DIGITS = 40


def _num(x):
    """A float or complex input as a 40-digit sympy number (exactly the binary value)."""
    x = complex(x)
    return sp.Float(x.real, DIGITS) + sp.I * sp.Float(x.imag, DIGITS)


def _ref_pair(vals, mu_val, T, pa, pb, Y):
    """(F_Y, H_Y) from the closed forms of (vii)–(ix) in 40-digit arithmetic.

    ``vals`` maps the parameter symbols to numbers, ``T`` is the 3×3 table T(B_i, B_j) in the
    basis (I, K, S), ``pa``, ``pb`` are one-point records (z, q, r, s) and ``Y`` the basis
    coefficients of Y."""
    vals = {k: _num(v) for k, v in vals.items()}
    muv = _num(mu_val)
    Tm = sp.Matrix(3, 3, lambda i, j: _num(T[i][j]))

    def bil(x, y):  # T(X, Y) for coefficient vectors in the basis (I, K, S)
        return (sp.Matrix([x]) * Tm * sp.Matrix(y))[0]

    def at(pt):  # D₁, D₂, c_e and s at one point, from (ii)'s δ's
        sub = {**vals, mu: muv, q: _num(pt[1]), r: _num(pt[2]), s: _num(pt[3])}
        D1, D2 = (1 + dl.subs(sub) for dl in deltas())
        return D1, D2, muv / D1 + (1 - muv) / D2, sub[s]
    (D1z, D2z, cez, sz), (D1w, D2w, cew, sw) = at(pa), at(pb)
    b = sp.sqrt(vals[b2])
    pp, ratio = vals[psi_p], vals[rho]
    C = [(vals[v2] + muv * vals[s2], muv * vals[b2], vals[A]), (vals[s2], vals[b2], 0)]
    ce_pairs = [(muv * b, muv), (b, 1)]  # (c_g, e_g): the σξ and ξξ coefficients of Cᴶ_g
    Kv, Yv = (0, 1, 0), [_num(y) for y in Y]
    rho_g = (ratio, ratio * muv)
    G = (1 / (D1z * D1w), (1 - muv) / (D2z * D2w))
    Jm = sp.Matrix(2, 2, lambda h, g: int(h == g) - rho_g[h] * bil(C[h], C[g]) * G[g])
    theta = Jm.LUsolve(sp.Matrix([rho_g[h] * bil(C[h], Yv) for h in range(2)]))
    F = pp * (bil(Kv, Yv) + sum(G[g] * theta[g] * bil(Kv, C[g]) for g in range(2)))
    bz, bw = b * cez, b * cew
    L = [bz * bw * pp * bil(Kv, C[g]) - c * pp * (bz * sz + bw * sw) + e
         for g, (c, e) in enumerate(ce_pairs)]
    H = bz * bw * pp * bil(Kv, Yv) + sum(G[g] * theta[g] * L[g] for g in range(2))
    return complex(sp.N(F, 30)), complex(sp.N(H, 30))


def _close(got, want, tol, label):
    assert abs(got - want) <= tol * (1 + abs(want)), f"{label}: {got} vs {want}"


def _check_library_pairs(seed: int = 11) -> None:
    import jax
    import jax.numpy as jnp

    from rfdiff._theory.noise_samples import _pair, sample_pair_table, v_traces
    from rfdiff._theory.params import SpectralParams
    from rfdiff._theory.basis import basis_table as _basis_table
    from rfdiff._theory.two_point import OnePoint, _F_from_table, _terms

    rnd = random.Random(seed)
    vals = {A: 0.7, b2: 0.13, v2: 0.21, s2: 0.05, psi_p: 6.0}
    psi_n = 1.5
    vals[rho] = vals[psi_p] / psi_n
    atoms, weights = [0.5, 2.5], [0.3, 0.7]

    def cplx(lo=-1.0, hi=1.0, im_lo=0.05):
        return complex(rnd.uniform(lo, hi), rnd.uniform(im_lo, 1.0))

    def params(mu_val, **over):
        v = {**{k.name: x for k, x in vals.items()}, **over}
        return SpectralParams(jnp.asarray(v["psi_p"]), jnp.asarray(psi_n), jnp.asarray(v["A"]),
                              jnp.asarray(v["b2"]), jnp.asarray(v["v2"]), jnp.asarray(v["s2"]),
                              jnp.asarray(atoms), jnp.asarray(weights),
                              inv_m=None if mu_val is None else jnp.asarray(mu_val))

    def record(pt):
        return OnePoint(*(jnp.asarray(x, dtype=jnp.complex128) for x in pt), None, None, None)

    basis = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    # The references are exact to 30 digits; the library works in float64 on O(1) inputs
    # through a well-conditioned 2×2 solve (table entries ≲ 0.3, so J ≈ I), so a formula
    # agrees to ~1e-15 and 1e-12 is far below any wrong factor.
    tol = 1e-12
    with jax.enable_x64(True):
        for mu_val in (1.0, 0.5, 1.0 / 3.0, 0.0):
            P = params(mu_val)
            T = [[0.3 * cplx() for _ in range(3)] for _ in range(3)]
            pa, pb = [(cplx(0, 3, 0.01),) + tuple(cplx() for _ in range(3)) for _ in range(2)]
            Yc = (rnd.uniform(0, 1), rnd.uniform(0, 1), rnd.uniform(0, 1))
            for Y in basis + (Yc,):
                got = [complex(v) for v in _pair(P, T, record(pa), record(pb), Y)]
                want = _ref_pair(vals, mu_val, T, pa, pb, Y)
                for g, w, name in zip(got, want, ("F_Y", "H_Y")):
                    _close(g, w, tol, f"_pair {name} at μ={mu_val}, Y={Y}")
            # v_traces against own, lin of (viii)
            lin, own = (complex(v) for v in v_traces(P, record(pa)))
            sub = {**vals, mu: mu_val, q: pa[1], r: pa[2], s: pa[3]}
            D1, D2 = (complex(sp.N((1 + dl).subs(sub), 30)) for dl in deltas())
            ce = mu_val / D1 + (1 - mu_val) / D2
            ps = vals[psi_p] * pa[3]
            _close(own, 1 - ce + vals[b2] * ce**2 * ps, tol, f"v_traces own at μ={mu_val}")
            _close(lin, vals[b2] * ce * ps, tol, f"v_traces lin at μ={mu_val}")
            # sample_pair_table on the library's own level-2 table, Ũ of other parameters
            P_pop = params(mu_val, A=0.9, b2=0.2, v2=0.1, s2=0.08)
            pts = [[(cplx(0, 3, 0.01),) + tuple(cplx() for _ in range(3)) for _ in range(2)]
                   for _ in range(2)]
            a = record(tuple(jnp.asarray([pt[0][i] for pt in pts]) for i in range(4)))
            bb = record(tuple(jnp.asarray([pt[1][i] for pt in pts]) for i in range(4)))
            out = sample_pair_table(P, a, bb, P_pop)
            pop = (0.08 + 0.1, 0.2, 0.9)
            for n, (qa, qb) in enumerate(pts):
                Tl = _basis_table(P, tuple(jnp.asarray(x) for x in qa[1:]), jnp.asarray(qa[0]),
                                  tuple(jnp.asarray(x) for x in qb[1:]), jnp.asarray(qb[0]))
                Tl = [[complex(x) for x in row] for row in Tl]
                FI, HI = _ref_pair(vals, mu_val, Tl, qa, qb, basis[0])
                FK = _ref_pair(vals, mu_val, Tl, qa, qb, basis[1])[0]
                FS = _ref_pair(vals, mu_val, Tl, qa, qb, basis[2])[0]
                Hpop = _ref_pair(vals, mu_val, Tl, qa, qb, pop)[1]
                for got, want, name in zip(out, (FK, FS, FI, Hpop, HI),
                                           ("F_K", "F_S", "F_I", "H_pop", "H_I")):
                    _close(complex(got[n]), want, tol, f"sample_pair_table {name} at μ={mu_val}")
        # μ = 0: H_Y = b² F_Y for any table, and F_Y is the m = ∞ two-resolvent trace
        P0, P_inf = params(0.0), params(None)
        for _ in range(3):
            T = [[cplx() for _ in range(3)] for _ in range(3)]
            pa, pb = [(cplx(0, 3, 0.01),) + tuple(cplx() for _ in range(3)) for _ in range(2)]
            Dz, Dw = (_terms(tuple(jnp.asarray(x) for x in pt[1:3]), jnp.asarray(pt[0]),
                             P_inf)[0] for pt in (pa, pb))
            F_inf = [complex(v) for v in _F_from_table(P_inf, T, Dz, Dw)]  # K, S, I
            for Y, Fi in zip((basis[1], basis[2], basis[0]), F_inf):
                F, H = (complex(v) for v in _pair(P0, T, record(pa), record(pb), Y))
                # one expression, rearranged: rounding only (b_x² = (√b²)² to 1 ulp)
                _close(H, vals[b2] * F, 1e-14, f"μ = 0: H_Y ≠ b² F_Y at Y={Y}")
                _close(F, Fi, 1e-13, f"μ = 0: F_Y ≠ the m = ∞ F_Y at Y={Y}")


def check() -> None:
    for m in (2, 3, 4):
        _check_helmert(m)
    _check_effective()
    _check_theory_forms()
    _check_m_infinity()
    _check_m_one()
    _check_library()
    for m in (2, 3):
        _check_joint_covariances(m)
    _check_joint_effective()
    _check_kappa_expansion()
    _check_two_resolvents()
    _check_library_pairs()


if __name__ == "__main__":
    check()
    print("noise_samples: all checks passed")
