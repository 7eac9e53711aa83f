import math

import jax
import numpy as np
import pytest
import scipy.special as sp
from scipy.integrate import quad

import rfdiff
from rfdiff._model.quadrature import gauss_hermite

SMOOTH = ["tanh", "erf", "gelu"]
FIELDS = ["mu0", "a", "b", "v2", "s2"]


def _rel(x, y):
    x, y = float(x), float(y)
    return abs(x - y) / max(abs(y), 1e-300)


@pytest.mark.parametrize("name", SMOOTH)
@pytest.mark.parametrize("t", [0.01, 0.1, 1.0])
def test_smooth_constants_converged_to_1e10(name, t):
    # the default degree against a much higher one: relative error <= 1e-10 on every
    # constant that is not zero by symmetry (mu0 of odd activations is pure round-off)
    lo = rfdiff.coefficients(name, t)
    hi = rfdiff.coefficients(name, t, degree=400)
    for f in FIELDS:
        if abs(float(getattr(hi, f))) > 1e-12:
            assert _rel(getattr(lo, f), getattr(hi, f)) <= 1e-10, (name, t, f)


@pytest.mark.parametrize("t", [0.01, 0.1, 1.0])
@pytest.mark.parametrize("kappa", [0.5, 1.0, 2.0])
def test_relu_against_closed_forms(t, kappa):
    # relu: μ0 = Γ/√(2π), a = 1/2, E σ² = Γ²/2 and v² from the arc-cosine kernel.
    # Kink-aware panels give ~1e-13; we assert 1e-10 (the accuracy stated in the docs).
    spec = rfdiff.DataSpectrum((kappa,), (1.0,))
    c = rfdiff.coefficients("relu", t, spec)
    delta = -math.expm1(-2 * t)
    cc = math.exp(-t) * math.sqrt(kappa)
    gam2 = cc**2 + delta
    assert _rel(c.mu0, math.sqrt(gam2 / (2 * math.pi))) < 1e-10
    assert _rel(c.a, 0.5) < 1e-10
    # E_u[(E_v relu(cu+√Δv))²]: the inner mean is m Φ(m/s) + s φ(m/s); its square is
    # averaged over u by adaptive quadrature split at the near-kink u = 0
    s = math.sqrt(delta)

    def integrand(u):
        m = cc * u
        inner = m * sp.ndtr(m / s) + s * math.exp(-0.5 * (m / s) ** 2) / math.sqrt(2 * math.pi)
        return inner**2 * math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)

    second = sum(quad(integrand, lo, hi, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
                 for lo, hi in ((-14, 0), (0, 14)))
    v2 = second - float(c.mu0) ** 2 - 0.25 * cc**2
    s2 = gam2 / 2 - float(c.mu0) ** 2 - 0.25 * cc**2 - v2 - 0.25 * delta
    assert _rel(c.v2, v2) < 1e-10
    assert _rel(c.s2, s2) < 1e-10


@pytest.mark.parametrize("name", ["tanh", "erf", "gelu", "relu"])
def test_a_equals_mean_derivative_and_b(name):
    t = 0.3
    c = rfdiff.coefficients(name, t)
    act = rfdiff.activation(name)
    gamma = math.sqrt(math.exp(-2 * t) + (-math.expm1(-2 * t)))
    x, w = gauss_hermite(200)
    with jax.enable_x64(True):
        mean_deriv = float(np.sum(w * np.asarray(act.derivative(gamma * x))))
    # relu's derivative is a step: Gauss–Hermite is only algebraically accurate there
    tol = 1e-3 if name == "relu" else 1e-12
    assert _rel(c.a, mean_deriv) < tol
    assert _rel(c.b, math.sqrt(-math.expm1(-2 * t)) * c.a) < 1e-14


@pytest.mark.parametrize("name", ["tanh", "erf", "gelu"])
@pytest.mark.parametrize("t", [0.05, 0.5])
def test_hermite_series_for_unit_kappa(name, t):
    # v² = Σ_{k≥2} c_k² e^{−2kt}/k!,  s² = Σ_{k≥2} c_k² (1 − e^{−2kt})/k!,  c_k = E σ(z)He_k(z)
    act = rfdiff.activation(name)
    x, w = gauss_hermite(300)
    with jax.enable_x64(True):
        sig = np.asarray(act(x))
    he = [np.ones_like(x), x]
    for k in range(1, 80):
        he.append(x * he[k] - k * he[k - 1])
    ck2 = np.array([np.sum(w * sig * he[k]) ** 2 / math.factorial(k) for k in range(80)])
    ks = np.arange(80)
    v2 = np.sum(ck2[2:] * np.exp(-2 * ks[2:] * t))
    s2 = np.sum(ck2[2:] * -np.expm1(-2 * ks[2:] * t))
    c = rfdiff.coefficients(name, t)
    assert _rel(c.v2, v2) < 1e-9
    assert _rel(c.s2, s2) < 1e-9


def test_linear_has_no_nonlinear_part():
    c = rfdiff.coefficients("linear", 0.2)
    assert abs(float(c.v2)) < 1e-14 and abs(float(c.s2)) < 1e-14
    assert _rel(c.a, 1.0) < 1e-14


def test_kappa_not_kappa_squared():
    # the preactivation variance is e^{-2t}κ + Δ: for κ = 2 it differs from the κ² version
    spec = rfdiff.DataSpectrum((1.0, 3.0), (0.5, 0.5))
    c = rfdiff.coefficients("erf", 0.1, spec)
    gamma = math.sqrt(math.exp(-0.2) * 2.0 + (-math.expm1(-0.2)))
    # erf: E erf'(Γz) = (2/√π)/√(1+2Γ²)
    assert _rel(c.a, 2 / math.sqrt(math.pi) / math.sqrt(1 + 2 * gamma**2)) < 1e-12
    assert float(c.kappa) == 2.0


def test_callable_activation_and_errors():
    c1 = rfdiff.coefficients(lambda x: jax.numpy.tanh(x), 0.1)
    c2 = rfdiff.coefficients("tanh", 0.1)
    assert _rel(c1.v2, c2.v2) < 1e-14
    with pytest.raises(ValueError, match="t must be > 0"):
        rfdiff.coefficients("tanh", 0.0)
    with pytest.raises(ValueError, match="t must be finite"):
        rfdiff.coefficients("tanh", float("nan"))
    with pytest.raises(ValueError, match="activation must be one of"):
        rfdiff.coefficients("swish", 0.1)
