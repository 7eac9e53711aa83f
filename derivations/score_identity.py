"""Test loss versus score error for Gaussian data (THEORY.md §1–2).

For x₀ ~ N(0, Σ), x_t = e^{−t}x₀ + √Δ ξ ~ N(0, C) with C = e^{−2t}Σ + Δ I and true score
s*(x) = −C⁻¹x, any score model s_A satisfies

    L_test = Δ E_score + 1 − Δ E‖s*‖²/d,      E‖s*‖²/d = Tr(C⁻¹)/d,

with L_test = (1/d) E_{x₀}E_ξ ‖√Δ s_A(x_t) + ξ‖² and E_score = (1/d) E‖s_A(x) − s*(x)‖².
For Σ = κI the constant is 1 − Δ/Γ² = e^{−2t}κ/Γ² (Γ² = e^{−2t}κ + Δ), i.e. e^{−2t} for Σ = I.

Proof, checked step by step:

1. Gaussian integration by parts, E[x f(x)] = C E[∇f(x)] for x ~ N(0, C), checked on the
   exponentials f = e^{kᵀx} through the moment generating function (they span a dense set,
   and both sides are linear in f), and likewise the noise version
   E_ξ[ξ f(x_t)] = √Δ E[∇f(x_t)] at fixed x₀. Also ∇ log N(x; 0, C) = −C⁻¹x.
2. For a model linear in features, s_A = Aφ/√p, both cross terms reduce to J = E[∇φ]:
   E[φξᵀ] = √Δ J and E[φxᵀ] = J C, and the identity follows by linear algebra (symbolic
   d = 2, p = 3, symbolic C, A, U = E[φφᵀ], J).
3. Independent of step 1–2: a concrete random-features model with a polynomial activation
   and an anisotropic, non-diagonal Σ, where every Gaussian expectation is computed exactly
   from the moments of independent standard normals. A deliberately wrong score (C without
   the e^{−2t}) must break the identity.

Used by rfdiff/_instance.py (score error of finite-size models) and rfdiff/_flow.py
(test loss ↔ score error conversion).
"""

from __future__ import annotations

import sympy as sp

D_DIM, P_DIM = 2, 3


def _sym_matrix(name, n):
    return sp.Matrix(n, n, lambda i, j: sp.Symbol(f"{name}{min(i, j)}{max(i, j)}"))


def _moment(monom):
    mom = 1
    for k in monom:
        mom *= 0 if k % 2 else sp.factorial2(k - 1)
    return mom


def _poly_expect(poly, n_gauss):
    """E over the first ``n_gauss`` generators (independent N(0, 1)) of a Poly."""
    out = {}
    for monom, coeff in poly.terms():
        mom = _moment(monom[:n_gauss])
        if mom:
            key = monom[n_gauss:]
            out[key] = out.get(key, 0) + coeff * mom
    return sp.Poly.from_dict(out, *poly.gens[n_gauss:]) if out else sp.Integer(0)


def _check_stein_and_score():
    k = sp.Matrix(sp.symbols(f"k0:{D_DIM}"))
    x = sp.Matrix(sp.symbols(f"x0:{D_DIM}"))
    C = _sym_matrix("C", D_DIM)
    mgf = sp.exp((k.T * C * k)[0, 0] / 2)             # E e^{kᵀx}, x ~ N(0, C)
    e_x_f = sp.Matrix([sp.diff(mgf, ki) for ki in k])  # E[x e^{kᵀx}]
    e_grad_f = k * mgf                                  # E[∇ e^{kᵀx}]
    assert all(sp.simplify(e) == 0 for e in e_x_f - C * e_grad_f), \
        "E[x f(x)] ≠ C E[∇f(x)] on exponentials"
    # noise version: f(x_t) = e^{kᵀx_t}, x_t = m + gξ (m = e^{−t}x₀ fixed, g = √Δ)
    m = sp.Matrix(sp.symbols(f"m0:{D_DIM}"))
    g, l = sp.Symbol("g", positive=True), sp.Matrix(sp.symbols(f"l0:{D_DIM}"))
    mgf_xi = sp.exp((l.T * l)[0, 0] / 2)               # E e^{lᵀξ}
    at = {li: g * ki for li, ki in zip(l, k)}
    e_xi_f = sp.exp((k.T * m)[0, 0]) * sp.Matrix([sp.diff(mgf_xi, li) for li in l]).subs(at)
    e_grad_ft = k * sp.exp((k.T * m)[0, 0]) * mgf_xi.subs(at)
    assert all(sp.simplify(e) == 0 for e in e_xi_f - g * e_grad_ft), \
        "E_ξ[ξ f(x_t)] ≠ √Δ E[∇f(x_t)] on exponentials"
    # the true score of N(0, C), C = e^{−2t}Σ + ΔI
    e = sp.Symbol("e", positive=True)                  # e = e^{−t}
    Sigma = _sym_matrix("S", D_DIM)
    Ct = e**2 * Sigma + (1 - e**2) * sp.eye(D_DIM)
    logp = -(x.T * Ct.inv() * x)[0, 0] / 2 - sp.log(Ct.det()) / 2
    grad = sp.Matrix([sp.diff(logp, xi) for xi in x])
    assert all(sp.simplify(r) == 0 for r in grad + Ct.inv() * x), "∇log p_t ≠ −C⁻¹x"


def _identity_residual(L_test, E_score, E_s2, delta):
    return L_test - (delta * E_score + 1 - delta * E_s2 / D_DIM)


def _check_linear_in_features():
    delta, p = sp.symbols("Delta p", positive=True)
    A = sp.Matrix(D_DIM, P_DIM, lambda i, j: sp.Symbol(f"A{i}{j}"))
    U = _sym_matrix("U", P_DIM)
    J = sp.Matrix(P_DIM, D_DIM, lambda i, j: sp.Symbol(f"J{i}{j}"))
    C = _sym_matrix("C", D_DIM)
    Ci = C.inv()
    E_phi_xi = sp.sqrt(delta) * J        # Stein in ξ
    E_phi_x = J * C                      # Stein in x
    L_test = 1 + (delta * (A * U * A.T).trace() / p
                  + 2 * sp.sqrt(delta / p) * (A * E_phi_xi).trace()) / D_DIM
    # s_A − s* = Aφ/√p + C⁻¹x
    E_s2 = (Ci * Ci * C).trace()
    E_score = ((A * U * A.T).trace() / p
               + 2 * (A.T * Ci * E_phi_x.T).trace() / sp.sqrt(p) + E_s2) / D_DIM
    assert sp.simplify(E_s2 - Ci.trace()) == 0, "E‖s*‖² ≠ Tr C⁻¹"
    res = _identity_residual(L_test, E_score, E_s2, delta)
    assert sp.simplify(res) == 0, f"identity fails for a linear-in-features model: {res}"


def _check_polynomial_model(L, W, act):
    # e = e^{−t} and g = √Δ are kept independent: the identity only needs x_t = e x₀ + g ξ
    # and C = e²Σ + g²I, and polynomial arithmetic in (e, g) is much faster than in √(1−e²).
    # The score model is s_A(x) = A act(W x) (the 1/√p is absorbed in the symbolic A).
    e, g, inv_det = sp.symbols("e g inv_det")
    z = sp.symbols(f"z0:{D_DIM}")
    xi = sp.symbols(f"xi0:{D_DIM}")
    A = sp.Matrix(D_DIM, W.rows, lambda i, j: sp.Symbol(f"A{i}{j}"))
    gens = (*z, *xi, e, g, *A, inv_det)
    P = lambda ex: sp.Poly(ex, *gens)  # noqa: E731
    Sigma = L * L.T
    C = e**2 * Sigma + g**2 * sp.eye(D_DIM)
    xt = [P(ex) for ex in e * L * sp.Matrix(z) + g * sp.Matrix(xi)]  # also a sample of P_t
    pre = [sum((W[k, j] * xt[j] for j in range(D_DIM)), P(0)) for k in range(W.rows)]
    feats = [act(y) for y in pre]
    sA = [sum((P(A[i, k]) * feats[k] for k in range(W.rows)), P(0)) for i in range(D_DIM)]
    n_g = 2 * D_DIM

    def E(poly):
        return _poly_expect(poly, n_g).as_expr()

    L_test = E(sum((r * r for r in (P(g) * si + P(x) for si, x in zip(sA, xi))), P(0))) / D_DIM

    def residual(C_score):
        # s* = −C⁻¹x = −adj(C) x · inv_det, with inv_det = 1/det C substituted afterwards
        adj = C_score.adjugate()
        s_star = [-P(inv_det) * sum((P(adj[i, j]) * xt[j] for j in range(D_DIM)), P(0))
                  for i in range(D_DIM)]
        sub = {inv_det: 1 / C_score.det()}
        E_score = E(sum(((a - b) ** 2 for a, b in zip(sA, s_star)), P(0))).subs(sub) / D_DIM
        E_s2 = E(sum((b * b for b in s_star), P(0))).subs(sub)
        res = _identity_residual(L_test, E_score, E_s2, g**2)
        return sp.cancel(sp.together(res)), E_s2

    res, E_s2 = residual(C)
    assert res == 0, f"identity fails for the polynomial model: {res}"
    assert sp.cancel(E_s2 - C.inv().trace()) == 0, "E‖s*‖² ≠ Tr C⁻¹"
    wrong, _ = residual(Sigma + g**2 * sp.eye(D_DIM))
    assert wrong != 0, "the identity also holds for a wrong score: the check is vacuous"


def _check_isotropic_constant():
    e, kappa = sp.symbols("e kappa", positive=True)
    delta = 1 - e**2
    C = (e**2 * kappa + delta) * sp.eye(D_DIM)
    const = 1 - delta * C.inv().trace() / D_DIM
    assert sp.simplify(const - e**2 * kappa / (e**2 * kappa + delta)) == 0
    assert sp.simplify(const.subs(kappa, 1) - e**2) == 0, "constant ≠ e^{−2t} for Σ = I"


def check() -> None:
    _check_stein_and_score()
    _check_linear_in_features()
    W = sp.Matrix([[1, 0], [sp.Rational(1, 2), -1], [-sp.Rational(2, 3), sp.Rational(1, 3)]])
    act = lambda y: y - y**2 * sp.Rational(1, 2) + y**3 * sp.Rational(1, 3)  # noqa: E731
    # anisotropic, non-diagonal Σ = L Lᵀ = [[1, 1/2], [1/2, 5/2]]
    _check_polynomial_model(sp.Matrix([[1, 0], [sp.Rational(1, 2), sp.Rational(3, 2)]]), W, act)
    _check_polynomial_model(sp.eye(D_DIM), W, act)
    _check_isotropic_constant()


if __name__ == "__main__":
    check()
    print("score_identity: ok")
