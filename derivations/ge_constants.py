"""Gaussian-equivalence constants in closed form (THEORY.md §3).

With u, v, z independent N(0, 1), c = e^{−t}√κ, Δ = 1 − e^{−2t}, Γ² = c² + Δ:

    μ₀ = E σ(Γz),  a = E σ'(Γz),  b = √Δ a,
    v² = E_u[(E_v σ(cu + √Δ v))²] − μ₀² − a²c²,
    s² = E σ(Γz)² − μ₀² − a²c² − v² − b².

Checked here:

- Two erf lemmas, each by differentiating in a parameter, integrating the derivative in
  closed form with sympy and matching the value at the origin:
  E_v erf(m + βv) = erf(m/√(1+2β²)) and
  E[erf(αu) erf(γu)] = (2/π) arcsin(2αγ/√((1+2α²)(1+2γ²))).
  Applying them to the definitions gives, for σ = erf (checked against these simplified
  forms at 30 digits at three (t, κ) points): μ₀ = 0, a = 2/√(π(1+2Γ²)),
  v² = (2/π) arcsin(2c²/(1+2Γ²)) − a²c²,
  s² = (2/π)[arcsin(2Γ²/(1+2Γ²)) − arcsin(2c²/(1+2Γ²))] − a²Δ.
- relu: μ₀ = Γ/√(2π), a = ½, E σ(Γz)² = Γ²/2, E_v relu(m + βv) = mΦ(m/β) + βφ(m/β), and
  E_u[(E_v relu(cu + √Δ v))²] = Γ² k(c²/Γ²) with the arc-cosine kernel
  k(ρ) = (√(1−ρ²) + (π − arccos ρ)ρ)/(2π). k is checked through Price's theorem
  (k'' = bivariate normal density at the origin, k'(0) = ¼, k(0) = 1/(2π)) and, as that
  theorem is not proved here, also numerically against the 1-D integral of the squared
  inner mean with mpmath at 30 digits.
- Linear σ: a = 1, μ₀ = v² = s² = 0 (any κ), and a = E[σ(cu + √Δv)u]/c for polynomial σ.
- κ = 1 Hermite series, exactly for a generic polynomial σ of degree 5 with symbolic
  coefficients: μ₀ = c₀, a = c₁, v² = Σ_{k≥2} c_k² e^{−2kt}/k!,
  s² = Σ_{k≥2} c_k²(1 − e^{−2kt})/k!, c_k = E[σ(z) He_k(z)].

:func:`erf_constants` and :func:`relu_constants` evaluate the closed forms at 50 digits
(the differences in v², s² cancel badly in double precision at small t) and return floats;
they are the reference for rfdiff/_coefficients.py (tests/test_derivations.py).
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp

_t, _kappa = sp.symbols("t kappa", positive=True)
_u, _v, _z = sp.symbols("u v z", real=True)


def _phi(x):
    return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


def _E(expr, var):
    return sp.integrate(expr * _phi(var), (var, -sp.oo, sp.oo), conds="none")


def _zero(expr):
    return sp.simplify(sp.sympify(expr).rewrite(sp.erf)) == 0


def _params():
    c = sp.exp(-_t) * sp.sqrt(_kappa)
    delta = 1 - sp.exp(-2 * _t)
    return c, delta, c**2 + delta


# --- erf --------------------------------------------------------------------------------

def _erf_mean_shifted(m, beta):
    """E_v erf(m + βv)."""
    return sp.erf(m / sp.sqrt(1 + 2 * beta**2))


def _erf_pair(al, ga):
    """E[erf(αu) erf(γu)]."""
    return 2 / sp.pi * sp.asin(2 * al * ga / sp.sqrt((1 + 2 * al**2) * (1 + 2 * ga**2)))


def _check_erf_lemmas():
    m = sp.Symbol("m", real=True)
    beta, al, ga = sp.symbols("beta alpha gamma", positive=True)
    # d/dm E_v erf(m + βv) = E_v erf'(m + βv), a Gaussian integral
    d_lhs = _E(sp.diff(sp.erf(m + beta * _v), m), _v)
    assert _zero(d_lhs - sp.diff(_erf_mean_shifted(m, beta), m)), "E_v erf(m+βv): derivative"
    assert _zero(_E(sp.erf(beta * _v), _v)) and _erf_mean_shifted(0, beta) == 0
    # d/dα E[erf(αu)erf(γu)] = E[u erf'(αu) erf(γu)]
    d_lhs = _E(sp.diff(sp.erf(al * _u), al) * sp.erf(ga * _u), _u)
    assert _zero(d_lhs - sp.diff(_erf_pair(al, ga), al)), "E[erf erf]: derivative"
    assert _erf_pair(al, ga).subs(al, 0) == 0


@functools.lru_cache(maxsize=None)
def erf_closed_forms():
    """Sympy expressions (μ₀, a, b, v², s²) for σ = erf, in t and κ."""
    c, delta, G2 = _params()
    G = sp.sqrt(G2)
    mu0 = _E(sp.erf(G * _z), _z)
    a = sp.simplify(_E(sp.diff(sp.erf(_z), _z).subs(_z, G * _z), _z))
    inner = _erf_mean_shifted(c * _u, sp.sqrt(delta))          # E_v σ(cu + √Δ v)
    al = sp.simplify(inner.args[0] / _u)                       # = erf(α u)
    second_inner = _erf_pair(al, al)                           # E_u[inner²]
    second = _erf_pair(G, G)                                   # E σ(Γz)²
    v2 = second_inner - mu0**2 - a**2 * c**2
    s2 = second - mu0**2 - a**2 * c**2 - v2 - a**2 * delta
    return mu0, a, sp.sqrt(delta) * a, v2, s2


def _check_erf_forms():
    mu0, a, b, v2, s2 = erf_closed_forms()
    c, delta, G2 = _params()
    assert mu0 == 0, "μ₀ ≠ 0 for erf"
    assert _zero(a - 2 / sp.sqrt(sp.pi * (1 + 2 * G2))), f"a = {a}"
    x = 1 + 2 * G2
    v2_claim = 2 / sp.pi * sp.asin(2 * c**2 / x) - a**2 * c**2
    s2_claim = 2 / sp.pi * (sp.asin(2 * G2 / x) - sp.asin(2 * c**2 / x)) - a**2 * delta
    for name, got, want in (("v²", v2, v2_claim), ("s²", s2, s2_claim)):
        # sympy cannot drop the |·| it introduces without knowing 3e^{2t} > 2, so the two
        # expressions are compared at 30 digits at three (t, κ) points instead
        diff = [(got - want).subs({_t: tt, _kappa: kk}).evalf(30)
                for tt, kk in ((sp.Rational(1, 100), sp.Rational(1, 2)),
                               (sp.Rational(1, 10), 1), (2, sp.Rational(7, 3)))]
        assert all(abs(d) < 1e-25 for d in diff), f"erf {name}: {diff}"


def erf_constants(t: float, kappa: float = 1.0, dps: int = 50):
    """(μ₀, a, b, v², s²) for σ = erf, closed form evaluated at ``dps`` digits."""
    return _evaluate(erf_closed_forms(), t, kappa, dps)


# --- relu -------------------------------------------------------------------------------

def _arccos_kernel(rho):
    """k(ρ) = E[relu(x) relu(y)] for standard normals with correlation ρ."""
    return (sp.sqrt(1 - rho**2) + (sp.pi - sp.acos(rho)) * rho) / (2 * sp.pi)


def _relu_inner(m, beta):
    """E_v relu(m + βv) = mΦ(m/β) + βφ(m/β)."""
    return m * (1 + sp.erf(m / (beta * sp.sqrt(2)))) / 2 + beta * _phi(m / beta)


def _check_relu_lemmas():
    m = sp.Symbol("m", real=True)
    beta = sp.Symbol("beta", positive=True)
    rho = sp.Symbol("rho", positive=True)
    direct = sp.integrate((m + beta * _v) * _phi(_v), (_v, -m / beta, sp.oo), conds="none")
    assert _zero(direct - _relu_inner(m, beta)), "E_v relu(m + βv)"
    relu_mean = sp.integrate(_z * _phi(_z), (_z, 0, sp.oo))
    step_mean = sp.integrate(_phi(_z), (_z, 0, sp.oo))
    # Price: k'' = E[δ(x)δ(y)] = bivariate normal density at 0; k'(ρ) = P(x > 0, y > 0)
    density0 = 1 / (2 * sp.pi * sp.sqrt(1 - rho**2))
    k = _arccos_kernel(rho)
    assert _zero(sp.diff(k, rho, 2) - density0), "k'' ≠ φ₂(0, 0; ρ)"
    assert _zero(sp.diff(k, rho).subs(rho, 0) - step_mean**2), "k'(0) ≠ (E step)²"
    assert _zero(k.subs(rho, 0) - relu_mean**2), "k(0) ≠ (E relu)²"
    assert _zero(k.subs(rho, 1) - sp.integrate(_z**2 * _phi(_z), (_z, 0, sp.oo))), "k(1)"
    # numerical: Γ² k(c²/Γ²) = E_u[(E_v relu(cu + √Δ v))²]
    inner = sp.lambdify((_u, m, beta), _relu_inner(m * _u, beta) ** 2 * _phi(_u), "mpmath")
    with mpmath.workdps(30):
        for cc, dd in (("0.9", "0.19"), ("0.3", "0.9")):
            cc, dd = mpmath.mpf(cc), mpmath.mpf(dd)
            num = mpmath.quad(lambda x: inner(x, cc, mpmath.sqrt(dd)),
                              [-mpmath.inf, 0, mpmath.inf])
            g2 = cc**2 + dd
            closed = g2 * sp.lambdify(rho, _arccos_kernel(rho), "mpmath")(cc**2 / g2)
            assert abs(num - closed) < mpmath.mpf(10) ** -25 * abs(closed), \
                f"E_u[(E_v relu)²] = {num} but Γ²k(c²/Γ²) = {closed}"


@functools.lru_cache(maxsize=None)
def relu_closed_forms():
    """Sympy expressions (μ₀, a, b, v², s²) for σ = relu, in t and κ."""
    c, delta, G2 = _params()
    G = sp.sqrt(G2)
    mu0 = sp.integrate(G * _z * _phi(_z), (_z, 0, sp.oo))
    a = sp.integrate(_phi(_z), (_z, 0, sp.oo))                 # E σ'(Γz), σ' = step
    second = sp.integrate((G * _z) ** 2 * _phi(_z), (_z, 0, sp.oo))
    second_inner = G2 * _arccos_kernel(c**2 / G2)
    v2 = second_inner - mu0**2 - a**2 * c**2
    s2 = second - mu0**2 - a**2 * c**2 - v2 - a**2 * delta
    return mu0, a, sp.sqrt(delta) * a, v2, s2


def relu_constants(t: float, kappa: float = 1.0, dps: int = 50):
    """(μ₀, a, b, v², s²) for σ = relu, closed form evaluated at ``dps`` digits."""
    return _evaluate(relu_closed_forms(), t, kappa, dps)


def _evaluate(exprs, t, kappa, dps):
    f = _lambdified(exprs)
    with mpmath.workdps(dps):
        return tuple(float(x) for x in f(mpmath.mpf(t), mpmath.mpf(kappa)))


@functools.lru_cache(maxsize=None)
def _lambdified(exprs):
    return sp.lambdify((_t, _kappa), exprs, "mpmath")


# --- polynomial activations: linear case and the κ = 1 Hermite series -------------------

def _moment(k):
    return 0 if k % 2 else sp.factorial2(k - 1)


def _gauss_poly_mean(expr, var):
    poly = sp.Poly(sp.expand(expr), var)
    return sp.expand(sum(coef * _moment(k) for (k,), coef in poly.terms()))


def _poly_constants(sigma, x, c, delta):
    """(μ₀, a, v², s²) of a polynomial σ in the variable x, from the definitions, exactly."""
    s = sp.Lambda(x, sigma)
    G = sp.sqrt(c**2 + delta)
    mu0 = _gauss_poly_mean(s(G * _z), _z)
    a = _gauss_poly_mean(sp.diff(sigma, x).subs(x, G * _z), _z)
    a_alt = _gauss_poly_mean(s(c * _u + sp.sqrt(delta) * _v) * _u, _v)
    assert sp.simplify(_gauss_poly_mean(a_alt, _u) / c - a) == 0, "a ≠ E[σ(cu+√Δv)u]/c"
    inner = _gauss_poly_mean(s(c * _u + sp.sqrt(delta) * _v), _v)
    v2 = _gauss_poly_mean(inner**2, _u) - mu0**2 - a**2 * c**2
    s2 = _gauss_poly_mean(s(G * _z) ** 2, _z) - mu0**2 - a**2 * c**2 - v2 - a**2 * delta
    return mu0, a, v2, s2


def _check_linear():
    c, delta, _ = _params()
    x = sp.Symbol("x")
    mu0, a, v2, s2 = _poly_constants(x, x, c, delta)
    assert [sp.simplify(q) for q in (mu0, a - 1, v2, s2)] == [0] * 4, "linear constants"


def _check_hermite_series(degree=5):
    x, e = sp.symbols("x e", positive=True)                   # e = e^{−t}, κ = 1
    coeffs = sp.symbols(f"alpha0:{degree + 1}")
    sigma = sum(al * x**k for k, al in enumerate(coeffs))
    mu0, a, v2, s2 = _poly_constants(sigma, x, e, 1 - e**2)
    ck = [_gauss_poly_mean(sigma.subs(x, _z) * sp.hermite_prob(k, _z), _z)
          for k in range(degree + 1)]
    v2_series = sum(ck[k] ** 2 * e ** (2 * k) / sp.factorial(k) for k in range(2, degree + 1))
    s2_series = sum(ck[k] ** 2 * (1 - e ** (2 * k)) / sp.factorial(k)
                    for k in range(2, degree + 1))
    for name, got, want in (("μ₀", mu0, ck[0]), ("a", a, ck[1]),
                            ("v²", v2, v2_series), ("s²", s2, s2_series)):
        assert sp.expand(got - want) == 0, f"Hermite series for {name}: {sp.factor(got - want)}"


def check() -> None:
    _check_erf_lemmas()
    _check_erf_forms()
    _check_relu_lemmas()
    _check_linear()
    _check_hermite_series()


if __name__ == "__main__":
    check()
    print("ge_constants: ok")
