"""Two-resolvent traces and the contour form of the learning curves (docs/learning_curves.md).

Notation: K = W̃W̃ᵀ, S = W̃ΣW̃ᵀ, R_z = (U − z)⁻¹, A = a²e^{−2t}, ρ = ψ_p/ψ_n, E = average over
ρ_Σ; one-point unknowns q = (1/p)Tr R_z, r = (1/p)Tr S R_z, s = (1/p)Tr K R_z, and
D = 1 + ρ(A r + v² q), β = s² − z + v²/D, Λ = b² + (A/D)λ, ℓ = 1/(1 + ψ_p q Λ) per atom λ.
Two-point targets: F_Y(z, w) = (1/d) Tr K R_z Y R_w for Y ∈ {K, S, I}.

Checked here:

(i)   Bromwich/Laplace identity (sympy residues): (1/2πi)∫_Br e^{ατ}/(α(λ + α/c)) dα
      = (1 − e^{−cλτ})/λ = f_τ(λ), with limit 1/λ as τ → ∞ and g_τ = f_{2τ}; and the Talbot
      rule of the library reproduces f_τ(λ) to 1e-11 over λ ∈ [0, 10⁴], cτ ∈ [10⁻³, 10⁶].
(ii)  Loss decomposition (sympy, symbolic 3×2 W̃ and symmetric f, Ũ): with
      M = −Δ^{−1/2} b W̃ᵀ f and V = Ṽ = bW̃, (Δ/d)Tr MŨMᵀ + (2√Δ/d)Tr MṼ
      = (b²/d)Tr K f Ũ f − (2b²/d)Tr K f, and the train loss likewise with U, g.
(iii) The one-point equations in the form the library solves, q(β + E[Λℓ]) = 1,
      r = qE[λℓ], s = qE[ℓ], are THEORY.md §4's equations (symbolic, two atoms).
(iv)  Level-1 closure (symbolic): the linear equations e_Y = T(K,Y) + e_C θ_Y/(D_zD_w),
      e_C = T(K,C) + e_C θ_C/(D_zD_w) give e_Y = T(K,Y) + T(K,C)θ_Y/(D_zD_w − θ_C).
(v)   Exact consistency of the two-point formulas (rational arithmetic at random rational
      points; a polynomial identity that holds at several random points of a variety
      holds on it with probability ~1). One-point solutions are parametrised exactly by
      (q, D) at each point, solving the D-equation for (ρ, v²) and the q-equation for z, so
      no equation is solved numerically. Checked, for one, two and three atoms:
      - F_I(z, w) = ψ_p (s(z) − s(w))/(z − w)  (resolvent identity; tests F_I at z ≠ w);
      - F_Y(z, w) = F_Y(w, z) for Y = K, S, I  (transpose symmetry; the formulas are not
        symmetric in form);
      - F_Y(z, z) = −ψ_p ∂s/∂ζ_Y, the implicit derivative of THEORY.md §4's equations
        deformed by U → U + ζ_I I + ζ_K K + ζ_S S (b² → b² + ζ_K, A/D → A/D + ζ_S,
        s² → s² + ζ_I).
(vi)  The library's float implementation (rfdiff/_two_point.py, ``_pair``) agrees with the
      exact rational values of (v) to 1e-12.

What is not proved here: the leave-one-out (deterministic-equivalent) steps themselves.
They are checked against finite Gaussian-equivalent matrices (d = 400, complex z ≠ w) and
against exact finite-size learning curves in tests/test_asymptotic_curves.py.

Used by rfdiff/_two_point.py (one- and two-point equations) and
rfdiff/_asymptotic_curves.py (contour, loss assembly).
"""

from __future__ import annotations

import math
import random

import sympy as sp

# ----------------------------------------------------------------------------- (i)


def _check_bromwich():
    alpha, tau, c, lam = sp.symbols("alpha tau c lambda", positive=True)
    integrand = sp.exp(alpha * tau) / (alpha * (lam + alpha / c))
    total = sp.residue(integrand, alpha, 0) + sp.residue(integrand, alpha, -c * lam)
    f = (1 - sp.exp(-c * lam * tau)) / lam
    assert sp.simplify(total - f) == 0, f"Bromwich residues give {total}"
    assert sp.limit(f, tau, sp.oo) == 1 / lam
    # train loss relaxes as e^{−2cλτ}: g_τ = f_{2τ}
    assert sp.simplify(f.subs(tau, 2 * tau) - (1 - sp.exp(-2 * c * lam * tau)) / lam) == 0


def _check_talbot_rule():
    from rfdiff._theory import talbot_contour  # the library's rule

    zhat, omega = talbot_contour(24)
    worst = 0.0
    for ct in (1e-3, 1.0, 37.0, 1e6):
        for lam in [0.0] + [10.0**k for k in range(-8, 5)]:
            approx = sum(complex(w) / (lam + complex(z) / ct) for z, w in zip(zhat, omega)).real
            exact = ct if lam == 0 else -math.expm1(-lam * ct) / lam
            worst = max(worst, abs(approx - exact) / abs(exact))
    assert worst < 1e-11, f"Talbot rule relative error {worst:.2e}"


# ----------------------------------------------------------------------------- (ii)


def _check_loss_decomposition():
    d, p = 2, 3
    W = sp.Matrix(p, d, lambda i, j: sp.Symbol(f"w{i}{j}"))
    def sym(n):
        return sp.Matrix(p, p, lambda i, j: sp.Symbol(f"{n}{min(i, j)}{max(i, j)}"))

    f, Ut = sym("f"), sym("u")
    b, delta = sp.symbols("b Delta", positive=True)
    K = W * W.T
    M = -b / sp.sqrt(delta) * W.T * f
    V = b * W
    lhs = delta * (M * Ut * M.T).trace() / d + 2 * sp.sqrt(delta) * (M * V).trace() / d
    rhs = b**2 * (K * f * Ut * f).trace() / d - 2 * b**2 * (K * f).trace() / d
    assert sp.expand(lhs - rhs) == 0, "test-loss decomposition"
    # train loss: f U f with f = U⁻¹(1 − e^{−cUτ}) gives the form 1 − (b²/d) Tr K g, g = f_{2τ};
    # per eigenvalue: λ f² − 2f = −(1 − e^{−2x})/λ with x = cλτ
    lam, x = sp.symbols("lambda x", positive=True)
    fl = (1 - sp.exp(-x)) / lam
    assert sp.simplify(lam * fl**2 - 2 * fl + (1 - sp.exp(-2 * x)) / lam) == 0


# ----------------------------------------------------------------------------- (iii)


def _check_one_point_forms():
    q, r, z, A, b2, v2, s2, rho, psi_p = sp.symbols("q r z A b2 v2 s2 rho psi_p")
    lams = sp.symbols("l1 l2", positive=True)
    w1 = sp.Symbol("w1")
    ws = (w1, 1 - w1)
    D = 1 + rho * (A * r + v2 * q)
    beta = s2 - z + v2 / D
    Lam = [b2 + A / D * lam for lam in lams]
    ell = [1 / (1 + psi_p * q * L) for L in Lam]
    E = lambda vals: sum(w * v for w, v in zip(ws, vals))  # noqa: E731
    s = q * E(ell)
    lib_q = q * (beta + E([L * l for L, l in zip(Lam, ell)])) - 1
    # THEORY.md §4: ŝ = b²ψ_p + 1/q, r̂ = ψ_p A/D, s = E[1/(ŝ + λr̂)], r = E[λ/(ŝ + λr̂)]
    shat, rhat = b2 * psi_p + 1 / q, psi_p * A / D
    assert sp.simplify(s - E([1 / (shat + lam * rhat) for lam in lams])) == 0
    assert sp.simplify(q * E([lam * l for lam, l in zip(lams, ell)])
                       - E([lam / (shat + lam * rhat) for lam in lams])) == 0
    theory_z = psi_p * (s2 - z) + psi_p * v2 / D + (1 - psi_p) / q - s / q**2
    assert sp.simplify(lib_q - q * theory_z / psi_p) == 0, "q-equation differs from THEORY §4"


# ----------------------------------------------------------------------------- (iv)


def _check_level_one():
    eY, eC, TKY, TKC, thY, thC, Dz, Dw = sp.symbols("e_Y e_C T_KY T_KC theta_Y theta_C D_z D_w")
    sol = sp.solve([eY - TKY - eC * thY / (Dz * Dw), eC - TKC - eC * thC / (Dz * Dw)],
                   [eY, eC], dict=True)[0]
    assert sp.simplify(sol[eY] - (TKY + TKC * thY / (Dz * Dw - thC))) == 0


# ----------------------------------------------------------------------------- (v)


class _Model:
    """Exact rational parameters: ψ_p, A, b², s², atoms, weights (ρ, v² set per check)."""

    def __init__(self, rng, atoms):
        R = lambda lo, hi: sp.Rational(rng.randint(lo, hi), 7)  # noqa: E731
        self.psi_p, self.A, self.b2, self.s2 = R(10, 40), R(2, 9), R(1, 5), R(1, 3)
        self.atoms = [R(2, 20) for _ in range(atoms)]
        raw = [rng.randint(1, 9) for _ in range(atoms)]
        self.weights = [sp.Rational(x, sum(raw)) for x in raw]

    def E(self, vals):
        return sum(w * v for w, v in zip(self.weights, vals))


def _point(m, q, D):
    """Per-point quantities that do not need ρ, v² (Λ, ℓ, r, s)."""
    Lam = [m.b2 + m.A / D * lam for lam in m.atoms]
    ell = [1 / (1 + m.psi_p * q * L) for L in Lam]
    r = q * m.E([lam * l for lam, l in zip(m.atoms, ell)])
    s = q * m.E(ell)
    return dict(q=q, D=D, Lam=Lam, ell=ell, r=r, s=s)


def _close(m, pt, rho, v2):
    """z from the q-equation, β, given ρ and v² (pt must satisfy its D-equation)."""
    beta = 1 / pt["q"] - m.E([L * l for L, l in zip(pt["Lam"], pt["ell"])])
    z = m.s2 + v2 / pt["D"] - beta
    assert pt["D"] - 1 == rho * (m.A * pt["r"] + v2 * pt["q"]), "D-equation"
    return dict(pt, beta=beta, z=z)


def two_point_formula(m, a, b, rho, v2):
    """F_K, F_S, F_I at (z_a, z_b) from the two-point equations (docs §3), exactly."""
    ll = [x * y for x, y in zip(a["ell"], b["ell"])]
    qq = a["q"] * b["q"]
    den = a["beta"] + m.E([L * x for L, x in zip(a["Lam"], ll)])
    phis = ([1] * len(m.atoms), m.atoms)  # K, S
    def tau_psi(psi):
        first = b["q"] * m.E([p * l for p, l in zip(psi, b["ell"])])
        second = m.psi_p * qq * m.E([L * p * x for L, p, x in zip(a["Lam"], psi, ll)])
        return (first - second) / den

    tau = [b["q"] / den] + [tau_psi(psi) for psi in phis]
    T = [tau]
    for phi in phis:
        e = m.E([p * x for p, x in zip(phi, ll)])
        T.append([e * tau[0]] + [e * tau[j + 1] + m.psi_p * qq
                                 * m.E([p * g * x for p, g, x in zip(phi, psi, ll)])
                                 for j, psi in enumerate(phis)])
    c = (v2, 0, m.A)
    theta = [rho * sum(c[i] * T[i][j] for i in range(3)) for j in range(3)]
    theta_C = sum(c[j] * theta[j] for j in range(3))
    T_KC = sum(c[j] * T[1][j] for j in range(3))
    gain = T_KC / (a["D"] * b["D"] - theta_C)
    F = [m.psi_p * (T[1][j] + gain * theta[j]) for j in range(3)]
    return F[1], F[2], F[0]


def _pair_of_points(m, rng):
    R = lambda lo, hi: sp.Rational(rng.randint(lo, hi), 11)  # noqa: E731
    a, b = _point(m, R(1, 20), 1 + R(1, 9)), _point(m, R(21, 40), 1 + R(10, 19))
    # D − 1 = ρ A r + (ρ v²) q at both points: linear in (ρ, ρv²)
    rho, mu = sp.symbols("rho mu")
    sol = sp.solve([a["D"] - 1 - rho * m.A * a["r"] - mu * a["q"],
                    b["D"] - 1 - rho * m.A * b["r"] - mu * b["q"]], [rho, mu], dict=True)[0]
    rho_v, v2 = sol[rho], sol[mu] / sol[rho]
    return _close(m, a, rho_v, v2), _close(m, b, rho_v, v2), rho_v, v2


def _check_two_point_identities(m, rng):
    a, b, rho, v2 = _pair_of_points(m, rng)
    F_ab = two_point_formula(m, a, b, rho, v2)
    F_ba = two_point_formula(m, b, a, rho, v2)
    for name, x, y in zip("KSI", F_ab, F_ba):
        assert sp.simplify(x - y) == 0, f"F_{name}(z, w) ≠ F_{name}(w, z)"
    resolvent = m.psi_p * (a["s"] - b["s"]) / (a["z"] - b["z"])
    assert F_ab[2] == resolvent, "F_I violates the resolvent identity"
    return a, b, rho, v2, F_ab


def _theory_equations(m, q, r, z, zeta, rho, v2):
    """THEORY.md §4 residuals (s eliminated) with the ζ-deformation, and s itself."""
    zI, zK, zS = zeta
    shat = (m.b2 + zK) * m.psi_p + 1 / q
    D = 1 + rho * (m.A * r + v2 * q)
    rhat = m.psi_p * (m.A / D + zS)
    s = m.E([1 / (shat + lam * rhat) for lam in m.atoms])
    r_rhs = m.E([lam / (shat + lam * rhat) for lam in m.atoms])
    z_eq = m.psi_p * (m.s2 + zI - z) + m.psi_p * v2 / D + (1 - m.psi_p) / q - s / q**2
    return sp.Matrix([z_eq, r - r_rhs]), s


def _check_diagonal(m, rng):
    R = lambda lo, hi: sp.Rational(rng.randint(lo, hi), 13)  # noqa: E731
    rho = R(1, 30)
    pt = _point(m, R(1, 20), 1 + R(1, 9))
    v2 = ((pt["D"] - 1) / rho - m.A * pt["r"]) / pt["q"]
    a = _close(m, pt, rho, v2)
    q, r = sp.symbols("q r")
    zeta = sp.symbols("zeta_I zeta_K zeta_S")
    G, s = _theory_equations(m, q, r, a["z"], zeta, rho, v2)
    at = {q: a["q"], r: a["r"], **{zt: 0 for zt in zeta}}
    assert all(g == 0 for g in G.subs(at)), "parametrised point does not solve THEORY §4"
    Gx = G.jacobian([q, r]).subs(at)
    Gz = G.jacobian(list(zeta)).subs(at)
    dx = -Gx.inv() * Gz
    s_mat = sp.Matrix([s])
    ds = s_mat.jacobian([q, r]).subs(at) * dx + s_mat.jacobian(list(zeta)).subs(at)
    F = two_point_formula(m, a, a, rho, v2)
    for k, (name, Fy) in enumerate(zip("IKS", (F[2], F[0], F[1]))):
        assert sp.simplify(Fy + m.psi_p * ds[0, k]) == 0, f"F_{name}(z, z) ≠ −ψ_p ∂s/∂ζ_{name}"


# ----------------------------------------------------------------------------- (vi)


def _check_library(m, a, b, rho, v2, F_exact):
    import jax
    import jax.numpy as jnp

    from rfdiff._theory import SpectralParams
    from rfdiff._theory.two_point import _pair

    with jax.enable_x64(True):
        f = lambda x: jnp.asarray(float(x), jnp.float64)  # noqa: E731
        P = SpectralParams(psi_p=f(m.psi_p), psi_n=f(m.psi_p / rho), A=f(m.A), b2=f(m.b2),
                           v2=f(v2), s2=f(m.s2),
                           atoms=jnp.asarray([float(x) for x in m.atoms]),
                           weights=jnp.asarray([float(x) for x in m.weights]))
        c = lambda x: jnp.asarray(complex(x), jnp.complex128)  # noqa: E731
        got = _pair(P, c(a["z"]), (c(a["q"]), c(a["r"])), c(b["z"]), (c(b["q"]), c(b["r"])))
    for name, x, y in zip("KSI", got, F_exact):
        rel = abs(complex(x) - complex(y)) / abs(complex(y))
        assert rel < 1e-12, f"library F_{name} differs from the exact value by {rel:.2e}"


def check() -> None:
    _check_bromwich()
    _check_talbot_rule()
    _check_loss_decomposition()
    _check_one_point_forms()
    _check_level_one()
    rng = random.Random(20250)
    for atoms in (1, 2, 3):
        for _ in range(2):
            m = _Model(rng, atoms)
            a, b, rho, v2, F = _check_two_point_identities(m, rng)
            _check_diagonal(m, rng)
            _check_library(m, a, b, rho, v2, F)


if __name__ == "__main__":
    check()
    print("two_point: ok")
