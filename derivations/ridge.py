"""Weight decay: the penalised flow, its fixed point and the penalty-free train loss.

Convention: L_λ(A) = L(A) + λ Δ ‖A‖²_F/(p d), i.e. λΔ‖M‖²_F/d in M = A/√p. Checked here:

1. With the quadratic form of L (derivations/loss_quadratic.py) and small explicit symbolic
   matrices (d = 2, p = 3, the normalisations d, p kept as free symbols), the flow
   dA/dτ = −d² ∇_A L_λ reads dM/dτ = −(2Δ/ψ_p)(M(U + λI) + Vᵀ/√Δ): U → U + λI.
2. Its fixed point M* = −Δ^{−1/2} Vᵀ (U + λI)^{−1} makes that gradient vanish (a concrete
   symmetric positive-definite rational U, so the inverse is exact).
3. Along the flow from M(0) = 0, a mode of U of eigenvalue u has weight
   N = −Δ^{−1/2} B f with f = f_τ(u + λ), f_τ(x) = (1 − e^{−cxτ})/x; its contribution to the
   penalty-free train loss (1/d)[Δ u N² + 2√Δ N B] equals −(B²/d)[f_{2τ}(u + λ) + λ f²]
   (symbolic u, λ, c, τ; at τ = ∞ the same with f = 1/(u + λ)). Summed over modes with
   B² → b² K this is L_train = 1 − b²(1/d) Tr K g_τ(U_λ) − λ b²(1/d) Tr K f_τ(U_λ)², the
   formula of rfdiff/_theory/ridge.py.

Used by rfdiff/_finite/flow.py (finite-size flow with ``ridge``) and rfdiff/_theory/ridge.py.
"""

from __future__ import annotations

import sympy as sp

D_DIM, P_DIM = 2, 3


def _mat(name, rows, cols):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}{i}{j}", real=True))


def _sym(name, n):
    return sp.Matrix(n, n, lambda i, j: sp.Symbol(f"{name}{min(i, j)}{max(i, j)}", real=True))


def _check_flow(d, p, delta, lam):
    A, U, V = _mat("a", D_DIM, P_DIM), _sym("u", P_DIM), _mat("v", P_DIM, D_DIM)
    loss = 1 + ((delta / p) * (A * U * A.T).trace()
                + 2 * sp.sqrt(delta / p) * (A * V).trace()) / d
    loss_l = loss + lam * delta * sum(x**2 for x in A) / (p * d)
    grad = sp.Matrix(D_DIM, P_DIM, lambda i, j: sp.diff(loss_l, A[i, j]))
    M = A / sp.sqrt(p)
    flow = -d**2 * grad / sp.sqrt(p)  # dM/dτ = (dA/dτ)/√p
    psi_p = p / d
    want = -(2 * delta / psi_p) * (M * (U + lam * sp.eye(P_DIM)) + V.T / sp.sqrt(delta))
    assert all(sp.simplify(x) == 0 for x in flow - want), \
        "dM/dτ of L_λ is not −(2Δ/ψ_p)(M(U + λI) + Vᵀ/√Δ)"


def _check_fixed_point(delta, lam):
    U = sp.Matrix([[3, 1, 0], [1, 2, sp.Rational(1, 2)], [0, sp.Rational(1, 2), 1]])
    V = sp.Matrix([[1, -2], [sp.Rational(1, 3), 4], [-1, sp.Rational(5, 2)]])
    Ul = U + lam * sp.eye(P_DIM)
    M = -V.T * Ul.inv() / sp.sqrt(delta)
    assert all(sp.simplify(x) == 0 for x in M * Ul + V.T / sp.sqrt(delta)), \
        "−Δ^{−1/2} Vᵀ(U + λI)^{−1} is not the fixed point of the penalised flow"


def _check_train_mode(d, delta, lam):
    u, c, tau, B = sp.symbols("u c tau B", positive=True)

    def f(x, t):
        return (1 - sp.exp(-c * x * t)) / x

    for ff, gg in ((f(u + lam, tau), f(u + lam, 2 * tau)), (1 / (u + lam), 1 / (u + lam))):
        N = -B * ff / sp.sqrt(delta)
        got = (delta * u * N**2 + 2 * sp.sqrt(delta) * N * B) / d
        want = -(B**2 / d) * (gg + lam * ff**2)
        assert sp.simplify(sp.expand(got - want)) == 0, \
            "train-loss contribution of a mode is not −(B²/d)[g_τ(u + λ) + λ f_τ(u + λ)²]"


def check() -> None:
    d, p, delta = sp.symbols("d p Delta", positive=True)
    lam = sp.Symbol("lambda", nonnegative=True)
    _check_flow(d, p, delta, lam)
    _check_fixed_point(delta, lam)
    _check_train_mode(d, delta, lam)


if __name__ == "__main__":
    check()
    print("ridge: all checks passed")
