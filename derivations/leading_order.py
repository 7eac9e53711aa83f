"""Leading-order spectrum of U from the self-consistent equations (THEORY.md §4–5).

The equations, exactly as the library solves them (s_t² is written ``st2``; the unknowns
q, s, r are the resolvent traces; b_t² = Δ a_t²):

    ŝ = b²ψ_p + 1/q,   D = 1 + (ψ_p/ψ_n)(a² e^{−2t} r + v² q),   r̂ = ψ_p a² e^{−2t}/D,
    s = E_Σ[1/(ŝ + λ r̂)],   r = E_Σ[λ/(ŝ + λ r̂)],
    0 = ψ_p(s_t² − z) + ψ_p v²/D + (1 − ψ_p)/q − s/q².

Marchenko–Pastur (MP) reference: for H = θ·(1/N) X Xᵀ, X of size P×N with iid N(0, 1)
entries, γ = P/N, the Stieltjes transform m(w) = (1/P)Tr(H − w)⁻¹ solves
γθ w m² + (w + θ(γ − 1)) m + 1 = 0; its edges θ(1 ∓ √γ)² are where the discriminant in m
vanishes. The convention (signs, which size is P) is checked against a sampled matrix.

Checked here (sympy, with a two-atom ρ_Σ of symbolic atoms and weights where Σ enters):

(i)   ρ_Σ = δ_κ gives r = κ s, so r = s for Σ = I, and the system closes in (q, s).
(ii)  Memorisation scale: ψ_n = 1/ε, ψ_p = R/ε, z = s_t² + v²ζ, q = Q/v², s = εS, r = εS_r.
      The S, S_r equations have finite limits (the ansatz is consistent) and the last
      equation tends to the MP equation with θ = v², γ = R = ψ_p/ψ_n, independent of Σ:
      edges s_t² + v²(1 ∓ √(ψ_p/ψ_n))², and an atom at s_t² of mass 1 − ψ_n/ψ_p.
      The centre sits at z − s_t² ≈ v²ψ_p/ψ_n and the width is 4v²√(ψ_p/ψ_n), so ψ_p/ψ_n
      is held fixed rather than sent to ∞ (where the bulk would shrink to a point).
      The limit is a formal ε → 0 limit; that the full solution approaches it (error O(ε))
      is checked numerically with mpmath at ψ_n = 10⁴ and 10⁵.
(iii) Generalisation bulk, ψ_n → ∞ at fixed ψ_p (q, s, r finite, D → 1): the equations
      become those of a² W̃Σ_tW̃ᵀ + (s_t² + v²)I, Σ_t = e^{−2t}Σ + ΔI. For Σ = κI this is MP
      with θ = a²κ_t, κ_t = e^{−2t}κ + Δ, γ = ψ_p: edges s_t² + v² + a²κ_t(√ψ_p ∓ 1)²
      (symbolic). For an anisotropic two-atom Σ the limiting equations are compared with a
      sampled matrix a² W̃Σ_tW̃ᵀ (numerical, tolerance set by the O(1/√(dp)) fluctuations).

Used by rfdiff/_resolvent.py (the equations) and rfdiff/_leading_order.py (the edges).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp


def memorisation_edges(s2, v2, psi_p, psi_n):
    """Leading-order edges (left, right) of the memorisation bulk ρ₁."""
    root = math.sqrt(psi_p / psi_n)
    return s2 + v2 * (1 - root) ** 2, s2 + v2 * (1 + root) ** 2


def generalisation_edges(a, s2, v2, kappa_t, psi_p):
    """Leading-order (ψ_n → ∞) edges (left, right) of the generalisation bulk ρ₂.

    ``kappa_t`` = e^{−2t}κ + Δ_t, the eigenvalue of Σ_t for isotropic data Σ = κI.
    """
    root = math.sqrt(psi_p)
    return (s2 + v2 + a**2 * kappa_t * (root - 1) ** 2,
            s2 + v2 + a**2 * kappa_t * (root + 1) ** 2)


def mp_polynomial(m, w, gamma, theta):
    """γθ w m² + (w + θ(γ − 1)) m + 1, zero at the MP Stieltjes transform m(w)."""
    return gamma * theta * w * m**2 + (w + theta * (gamma - 1)) * m + 1


def equations(q, s, r, z, *, a2, b2, v2, st2, e2, psi_p, psi_n, atoms, weights):
    """Residuals of the three equations (s-, r- and z-equation) for a discrete ρ_Σ."""
    s_hat = b2 * psi_p + 1 / q
    D = 1 + (psi_p / psi_n) * (a2 * e2 * r + v2 * q)
    r_hat = psi_p * a2 * e2 / D
    s_rhs = sum(w / (s_hat + lam * r_hat) for lam, w in zip(atoms, weights))
    r_rhs = sum(w * lam / (s_hat + lam * r_hat) for lam, w in zip(atoms, weights))
    z_eq = psi_p * (st2 - z) + psi_p * v2 / D + (1 - psi_p) / q - s / q**2
    return s - s_rhs, r - r_rhs, z_eq


_a2, _v2, _st2, _e2, _delta = sp.symbols("a2 v2 st2 e2 Delta", positive=True)
_q, _s, _r, _z = sp.symbols("q s r z")
_lam = sp.symbols("lambda1 lambda2", positive=True)
_w1 = sp.Symbol("w1", positive=True)
_TWO_ATOM = dict(atoms=_lam, weights=(_w1, 1 - _w1))


def _eqs(psi_p, psi_n, **kw):
    params = dict(a2=_a2, b2=_delta * _a2, v2=_v2, st2=_st2, e2=_e2,
                  psi_p=psi_p, psi_n=psi_n, **(kw or _TWO_ATOM))
    return equations(_q, _s, _r, _z, **params)


def _edges_from(poly, m, w):
    disc = sp.discriminant(sp.Poly(sp.expand(poly), m).as_expr(), m)
    return sp.solve(disc, w)


def _same_polynomial(p1, p2, var):
    """p1 = c·p2 for a factor c free of ``var``."""
    ratio = sp.cancel(p1 / p2)
    return ratio != 0 and not ratio.has(var)


def _check_isotropic():
    kappa, psi_p, psi_n = sp.symbols("kappa psi_p psi_n", positive=True)
    s_eq, r_eq, _ = _eqs(psi_p, psi_n, atoms=(kappa,), weights=(1,))
    # r = κ s solves the r-equation whenever s solves the s-equation
    assert sp.simplify(r_eq.subs(_r, kappa * _s) - kappa * s_eq.subs(_r, kappa * _s)) == 0
    assert sp.simplify((r_eq - s_eq).subs({kappa: 1, _r: _s})) == 0, "r ≠ s for Σ = I"


def _check_memorisation():
    eps, R, zeta, Q, S, Sr = sp.symbols("epsilon R zeta Q S S_r", positive=True)
    scaling = {_z: _st2 + _v2 * zeta, _q: Q / _v2, _s: eps * S, _r: eps * Sr}
    s_eq, r_eq, z_eq = (e.subs(scaling) for e in _eqs(R / eps, 1 / eps))
    # (a) S and S_r have finite, nonzero leading-order values: the ansatz is consistent
    S0 = sp.solve(sp.limit(sp.cancel(s_eq / eps), eps, 0), S)
    Sr0 = sp.solve(sp.limit(sp.cancel(r_eq / eps), eps, 0), Sr)
    assert len(S0) == 1 and len(Sr0) == 1, (S0, Sr0)
    assert all(x != 0 and not x.has(eps) and x.is_finite is not False for x in S0 + Sr0)
    # (b) the z-equation, divided by its O(1/ε) size, tends to the MP equation
    lead = sp.limit(sp.cancel(z_eq * eps / (R * _v2)), eps, 0)
    assert not lead.has(S, Sr, _lam[0], _w1), "leading order should not depend on Σ"
    mp = mp_polynomial(Q, zeta, R, 1)
    assert _same_polynomial(sp.numer(sp.together(lead)), mp, Q), f"not MP: {lead}"
    # (c) edges ζ = (1 ∓ √R)², i.e. z = s_t² + v²(1 ∓ √(ψ_p/ψ_n))²
    edges = _edges_from(mp, Q, zeta)
    want = {(1 - sp.sqrt(R)) ** 2, (1 + sp.sqrt(R)) ** 2}
    assert {sp.expand(e) for e in edges} == {sp.expand(e) for e in want}, edges
    for s2, v2, pp, pn in ((0.003, 0.05, 64.0, 8.0), (0.1, 0.2, 10.0, 2.5)):
        z_edges = sorted(float((s2 + v2 * e).subs(R, pp / pn)) for e in edges)
        ref = memorisation_edges(s2, v2, pp, pn)
        assert np.allclose(z_edges, ref, rtol=1e-14), f"memorisation_edges: {ref} ≠ {z_edges}"
    # (d) atom at ζ = 0: Q ≈ −m₀/ζ with m₀ = 1 − 1/R = 1 − ψ_n/ψ_p
    m0 = sp.Symbol("m0")
    atom = sp.limit(sp.expand(mp.subs(Q, -m0 / zeta) * zeta), zeta, 0)
    roots = sp.solve(atom, m0)
    assert len(roots) == 2 and any(sp.simplify(x - (1 - 1 / R)) == 0 for x in roots), atom


def _check_memorisation_numerically():
    """Full equations at ψ_n = 10⁴, 10⁵ (ψ_p = 4ψ_n, Σ = I) approach the MP solution."""
    a2, v2, st2, e2, delta, R, zeta = 0.4, 0.05, 0.003, 0.8, 0.2, 4.0, 3.0
    Q_mp = complex(max(np.roots([R * zeta, zeta + R - 1, 1]), key=lambda x: x.imag))
    errors = []
    with mpmath.workdps(30):
        for psi_n in (1e4, 1e5):
            kw = dict(a2=a2, b2=delta * a2, v2=v2, st2=st2, e2=e2, psi_p=R * psi_n,
                      psi_n=psi_n, atoms=(1.0,), weights=(1.0,))
            z = st2 + v2 * zeta

            def f(q, s):
                s_eq, _, z_eq = equations(q, s, s, z, **kw)
                return [s_eq * psi_n, z_eq / psi_n]

            s0 = 1 / (psi_n * R * (delta * a2 + a2 * e2 / (1 + R * Q_mp)))
            q, _ = mpmath.findroot(f, (mpmath.mpc(Q_mp / v2), mpmath.mpc(s0)))
            assert mpmath.im(q) > 0, "left the physical branch (Im q > 0)"
            errors.append(abs(complex(q) * v2 - Q_mp) / abs(Q_mp))
    assert errors[0] < 1e-2 and 5 < errors[0] / errors[1] < 20, \
        f"not an O(1/ψ_n) correction to MP: {errors}"


def _check_generalisation():
    eps, psi_p, kappa, w = sp.symbols("epsilon psi_p kappa w", positive=True)
    # ψ_n = 1/ε → ∞ at fixed ψ_p: D → 1
    lim = [sp.limit(e, eps, 0) for e in _eqs(psi_p, 1 / eps)]
    # the ψ_n → ∞ equations are those of a²W̃Σ_tW̃ᵀ + (s_t² + v²)I: Σ only through Σ_t
    lam_t = [_e2 * l + _delta for l in _lam]
    s_lim = sum(wk / (psi_p * _a2 * lt + 1 / _q) for lt, wk in zip(lam_t, (_w1, 1 - _w1)))
    assert sp.simplify(lim[0] - (_s - s_lim)) == 0, "s-equation does not depend on Σ_t only"
    z_lim = psi_p * (_st2 + _v2 - _z) + (1 - psi_p) / _q - _s / _q**2
    assert sp.simplify(lim[2] - z_lim) == 0, "z-equation at ψ_n = ∞"
    # isotropic Σ = κI: eliminate s; MP with θ = a²κ_t, γ = ψ_p, in w = z − s_t² − v²
    kappa_t = _e2 * kappa + _delta
    iso = dict(atoms=(kappa,), weights=(1,))
    s_eq, _, z_eq = (sp.limit(e, eps, 0) for e in _eqs(psi_p, 1 / eps, **iso))
    s_sol = sp.solve(s_eq, _s)[0]
    reduced = sp.numer(sp.together(z_eq.subs(_s, s_sol).subs(_z, w + _st2 + _v2)))
    mp = mp_polynomial(_q, w, psi_p, _a2 * kappa_t)
    assert _same_polynomial(reduced, mp, _q), f"not MP: {sp.factor(reduced)}"
    edges = _edges_from(mp, _q, w)
    want = {_a2 * kappa_t * (sp.sqrt(psi_p) - 1) ** 2, _a2 * kappa_t * (sp.sqrt(psi_p) + 1) ** 2}
    assert {sp.expand(e) for e in edges} == {sp.expand(e) for e in want}, edges
    vals = {_a2: 0.36, _st2: 0.01, _v2: 0.04, kappa: 2.0, _e2: 0.8, _delta: 0.2, psi_p: 16.0}
    got = sorted(float((_st2 + _v2 + e).subs(vals)) for e in edges)
    ref = generalisation_edges(0.6, 0.01, 0.04, 0.8 * 2.0 + 0.2, 16.0)
    assert np.allclose(got, ref, rtol=1e-14), f"generalisation_edges: {ref} ≠ {got}"


def _check_mp_convention():
    """The MP polynomial's root against a sampled (θ/N) X Xᵀ, off the spectrum (w < 0).

    Sampling error is ~5·10⁻⁴ here; the root with γ = N/P in place of P/N misses by 30 %.
    """
    rng = np.random.default_rng(0)
    P, N, theta, w = 600, 300, 0.7, -0.5
    X = rng.standard_normal((P, N))
    m_emp = np.mean(1 / (np.linalg.eigvalsh(theta * X @ X.T / N) - w))

    def m_theory(gamma):
        m = sp.Symbol("m")
        roots = [complex(x) for x in sp.solve(mp_polynomial(m, w, gamma, theta), m)]
        return min(x.real for x in roots if x.real > 0)   # m(w) > 0 for w below the edge

    assert abs(m_emp - m_theory(P / N)) < 5e-3 * m_emp, (m_emp, m_theory(P / N))
    assert abs(m_emp - m_theory(N / P)) > 5e-2 * m_emp, "the check cannot tell γ from 1/γ"


def _check_generalisation_anisotropic():
    """ψ_n = ∞ equations for a two-atom Σ vs a sampled a²W̃Σ_tW̃ᵀ + (s_t² + v²)I.

    Compared off the spectrum (z < 0) after removing the exact atom of mass 1 − 1/ψ_p at
    s_t² + v²; the sampling fluctuations are ~0.5 % at d = 300, and the same comparison
    with Σ in place of Σ_t (the noise dropped) must miss by far more.
    """
    rng = np.random.default_rng(1)
    d, psi_p, a2, e2, delta, st2, v2 = 300, 3, 0.5, 0.6, 0.4, 0.02, 0.05
    atoms, weights = (0.5, 3.0), (0.5, 0.5)
    p, z = psi_p * d, -0.3
    atom = (1 - 1 / psi_p) / (st2 + v2 - z)
    lam_t = np.repeat([e2 * lam + delta for lam in atoms], [d // 2, d - d // 2])
    Wt = rng.standard_normal((p, d)) / math.sqrt(d)
    U = a2 * (Wt * lam_t) @ Wt.T + (st2 + v2) * np.eye(p)
    q_emp = np.mean(1 / (np.linalg.eigvalsh(U) - z)) - atom

    def q_limit(e2_, delta_):
        kw = dict(a2=a2, b2=delta_ * a2, v2=v2, st2=st2, e2=e2_, psi_p=psi_p,
                  psi_n=mpmath.inf, atoms=atoms, weights=weights)       # D = 1

        def f(q):
            s = -equations(q, 0, 0, z, **kw)[0]          # s = E_Σ[1/(ŝ + λr̂)]
            return equations(q, s, 0, z, **kw)[2]

        return float(mpmath.findroot(f, 1 / (st2 + v2 - z))) - atom

    err = abs(q_limit(e2, delta) - q_emp) / q_emp
    assert err < 1.5e-2, f"ψ_n = ∞ equations vs a²W̃Σ_tW̃ᵀ: relative error {err}"
    # control: Σ in place of Σ_t (e^{−2t} → 1, Δ → 0 inside ŝ and r̂) must miss
    err_wrong = abs(q_limit(1.0, 0.0) - q_emp) / q_emp
    assert err_wrong > 3e-2, f"the comparison cannot tell Σ_t from Σ ({err_wrong})"


def check() -> None:
    _check_isotropic()
    _check_memorisation()
    _check_memorisation_numerically()
    _check_mp_convention()
    _check_generalisation()
    _check_generalisation_anisotropic()


if __name__ == "__main__":
    check()
    print("leading_order: ok")
