"""Quadratic form of the denoising loss and its closed-form gradient flow (THEORY.md §2).

Checked here with small explicit symbolic matrices (d = 2, p = 3). The normalisations
d, p, ψ_p = p/d are kept as free symbols wherever the dimension enters only as a
normalisation (everywhere but E‖ξ‖² = d), so that e.g. d² and 2d are not confused:

1. Expanding L(A) = (1/d) E_ξ ‖√Δ s_A(x_t) + ξ‖², s_A = A σ/√p, with the second moments
   E[σσᵀ] = U, E[σξᵀ] = V, E[ξξᵀ] = I gives
   L(A) = 1 + (1/d)[(Δ/p) Tr(A U Aᵀ) + 2√(Δ/p) Tr(A V)].
2. The flow dA/dτ = −d² ∇_A L reads, for M = A/√p, dM/dτ = −(2Δ/ψ_p)(M U + Vᵀ/√Δ).
3. M(τ) = −Δ^{−1/2} Vᵀ U^{−1}(I − e^{−(2Δ/ψ_p)Uτ}) + M₀ e^{−(2Δ/ψ_p)Uτ} solves it with
   M(0) = M₀ (in the eigenbasis of U, with symbolic positive eigenvalues; the rotation to a
   general symmetric U is checked to leave the equation's form unchanged).
4. From M₀ = 0 the train loss is L(τ) = 1 − (1/d) Tr(Vᵀ U^{−1}(I − e^{−(4Δ/ψ_p)Uτ}) V):
   the weights relax with rate 2Δλ/ψ_p, the losses with 4Δλ/ψ_p.
5. One gradient step A ← A − η∇L is M ← M − (2δτ/ψ_p)(Δ M U + √Δ Vᵀ) with δτ = η/d².

Used by rfdiff/_flow.py (gradient flow, train/test losses, discrete steps) and by
rfdiff/_instance.py (finite-size U, V).
"""

from __future__ import annotations

import sympy as sp

D_DIM, P_DIM = 2, 3


def _mat(name, rows, cols, **assumptions):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}{i}{j}", **assumptions))


def _expect(expr, sig, xi, U, V):
    """Replace the degree-≤2 monomials in (σ, ξ) by their second moments."""
    poly = sp.Poly(sp.expand(expr), *sig, *xi)
    out = 0
    for monom, coeff in poly.terms():
        ms, mx = monom[:len(sig)], monom[len(sig):]
        if sum(monom) == 0:
            out += coeff
            continue
        assert sum(monom) == 2, f"unexpected monomial {monom}"
        si = [i for i, k in enumerate(ms) for _ in range(k)]
        xj = [j for j, k in enumerate(mx) for _ in range(k)]
        if len(si) == 2:
            out += coeff * U[si[0], si[1]]
        elif len(xj) == 2:
            out += coeff * (1 if xj[0] == xj[1] else 0)
        else:
            out += coeff * V[si[0], xj[0]]
    return out


def _zero(expr):
    return sp.simplify(sp.expand(expr)) == 0


def check() -> None:
    d, p, delta, eta, tau = sp.symbols("d p Delta eta tau", positive=True)
    psi_p = p / d
    sig = sp.symbols(f"sigma0:{P_DIM}")
    xi = sp.symbols(f"xi0:{D_DIM}")
    A = _mat("A", D_DIM, P_DIM)
    Us = _mat("U", P_DIM, P_DIM)
    U = sp.Matrix(P_DIM, P_DIM, lambda i, j: Us[min(i, j), max(i, j)])  # symmetric
    V = _mat("V", P_DIM, D_DIM)

    # 1. quadratic expansion
    resid = sp.sqrt(delta) * A * sp.Matrix(sig) / sp.sqrt(p) + sp.Matrix(xi)
    loss = _expect((resid.T * resid)[0, 0], sig, xi, U, V) / d
    quad = 1 + ((delta / p) * (A * U * A.T).trace()
                + 2 * sp.sqrt(delta / p) * (A * V).trace()) / d
    # E‖ξ‖² = d holds for the explicit dimension only; the rest keeps d symbolic
    assert _zero((loss - quad).subs(d, D_DIM)), \
        "L(A) is not 1 + (1/d)[(Δ/p)Tr(AUAᵀ) + 2√(Δ/p)Tr(AV)]"

    # 2. gradient flow in M = A/√p
    grad = sp.Matrix(D_DIM, P_DIM, lambda i, j: sp.diff(quad, A[i, j]))
    M = _mat("M", D_DIM, P_DIM)
    on_M = {A[i, j]: sp.sqrt(p) * M[i, j] for i in range(D_DIM) for j in range(P_DIM)}
    flow_M = (-d**2 * grad / sp.sqrt(p)).subs(on_M)
    claimed = -(2 * delta / psi_p) * (M * U + V.T / sp.sqrt(delta))
    assert all(_zero(e) for e in flow_M - claimed), "dM/dτ ≠ −(2Δ/ψ_p)(MU + Vᵀ/√Δ)"

    # 5. one discrete gradient step
    step_M = (M - eta * grad / sp.sqrt(p)).subs(on_M)
    dtau = eta / d**2
    claimed_step = M - (2 * dtau / psi_p) * (delta * M * U + sp.sqrt(delta) * V.T)
    assert all(_zero(e) for e in step_M - claimed_step), \
        "a GD step is not M − (2δτ/ψ_p)(ΔMU + √ΔVᵀ) with δτ = η/d²"

    # 3. closed-form solution, in the eigenbasis of U
    lam = sp.symbols(f"lambda0:{P_DIM}", positive=True)
    Ud = sp.diag(*lam)
    rate = 2 * delta / psi_p
    E = sp.diag(*[sp.exp(-rate * l * tau) for l in lam])
    M0 = _mat("m", D_DIM, P_DIM)
    sol = -V.T * Ud.inv() * (sp.eye(P_DIM) - E) / sp.sqrt(delta) + M0 * E
    rhs = -rate * (sol * Ud + V.T / sp.sqrt(delta))
    assert all(_zero(e) for e in sol.diff(tau) - rhs), "M(τ) does not solve the flow"
    assert all(_zero(e) for e in sol.subs(tau, 0) - M0), "M(0) ≠ M₀"
    # eigenbasis is no loss of generality: U = O Λ Oᵀ, M' = M O, V' = Oᵀ V keeps the form
    th = sp.Symbol("theta", real=True)
    O = sp.Matrix([[sp.cos(th), -sp.sin(th), 0], [sp.sin(th), sp.cos(th), 0], [0, 0, 1]])
    Urot = O * Ud * O.T
    lhs_rot = (-rate * (M * Urot + V.T / sp.sqrt(delta))) * O
    rhs_rot = -rate * ((M * O) * Ud + (O.T * V).T / sp.sqrt(delta))
    assert all(_zero(sp.trigsimp(e)) for e in lhs_rot - rhs_rot), "rotation covariance fails"

    # 4. train loss along the flow from M₀ = 0: exponent 4Δ/ψ_p, not 2Δ/ψ_p
    sol0 = sol.subs({m: 0 for m in M0})
    loss_tau = 1 + (delta * (sol0 * Ud * sol0.T).trace()
                    + 2 * sp.sqrt(delta) * (sol0 * V).trace()) / d
    E2 = sp.diag(*[sp.exp(-2 * rate * l * tau) for l in lam])
    claimed_loss = 1 - (V.T * Ud.inv() * (sp.eye(P_DIM) - E2) * V).trace() / d
    assert _zero(loss_tau - claimed_loss), \
        "L_train(τ) ≠ 1 − (1/d)Tr(VᵀU⁻¹(I − e^{−(4Δ/ψ_p)Uτ})V)"
    wrong = 1 - (V.T * Ud.inv() * (sp.eye(P_DIM) - E) * V).trace() / d
    assert not _zero(loss_tau - wrong), "the loss check cannot tell 4Δ/ψ_p from 2Δ/ψ_p"


if __name__ == "__main__":
    check()
    print("loss_quadratic: ok")
