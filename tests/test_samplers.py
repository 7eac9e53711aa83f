import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import loglog_slope
from rfdiff._generation.metrics import memorisation_fraction
from rfdiff._generation.samplers import (METHODS, EmpiricalScore, GaussianScore, covariance_error,
                              expected_covariance, limit_covariance, sample, time_grid)

# A spread of eigenvalues on both sides of 1 (λ = 1 makes the exact score −x at every t,
# which hides part of the discretisation error).
LAM = np.array([0.2, 0.5, 1.0, 1.5, 3.0])


@pytest.mark.parametrize("schedule", ["log_snr", "log", "uniform"])
def test_time_grid_is_decreasing_with_exact_end_points(schedule):
    t = time_grid(50, 1e-3, 5.0, schedule)
    assert t.shape == (51,) and t[0] == 5.0 and t[-1] == 1e-3
    assert np.all(np.diff(t) < 0)


def test_log_snr_grid_is_uniform_in_log_snr():
    t = time_grid(40, 1e-2, 4.0)
    ell = np.log(np.expm1(2 * t))
    np.testing.assert_allclose(np.diff(ell), np.diff(ell)[0], rtol=1e-9)


@pytest.mark.parametrize("method,order", [("euler_maruyama", 1), ("exponential", 1),
                                          ("euler", 1), ("heun", 2)])
def test_exact_score_covariance_converges_at_the_expected_order(method, order):
    # Expected output covariance of the discretised sampler, propagated exactly (no
    # sampling noise), against the closed-form step→0 limit. Over N = 50…800 the errors
    # are in the asymptotic regime: measured slopes −1.02…−1.05 for the first-order
    # samplers and −2.02 for Heun; ±0.1 leaves room for the pre-asymptotic curvature.
    steps = np.array([50, 100, 200, 400, 800])
    err = [covariance_error(LAM, method=method, steps=int(n)) for n in steps]
    slope, se = loglog_slope(steps, err)
    assert slope == pytest.approx(-order, abs=0.1)
    assert se < 0.05


def test_limit_covariance_is_the_fine_step_limit_and_tends_to_the_marginal():
    # Heun's error at N=800 is 3e-5 and falls as N⁻², so N=3200 is within ~2e-6 of the
    # limit; the SDE limit is checked the same way with its N⁻¹ error (7e-3 at N=800).
    fine = expected_covariance(LAM, method="heun", steps=3200)
    np.testing.assert_allclose(fine, limit_covariance(LAM, method="heun"), rtol=5e-6)
    fine_sde = expected_covariance(LAM, method="euler_maruyama", steps=6400)
    np.testing.assert_allclose(fine_sde, limit_covariance(LAM, method="euler_maruyama"),
                               rtol=2e-3)
    # with t_max large the start N(0, I) is exact and both limits are c(t_min)
    c_min = np.exp(-2e-3) * LAM + (1 - np.exp(-2e-3))
    for m in ("heun", "exponential"):
        np.testing.assert_allclose(limit_covariance(LAM, method=m, t_max=20.0), c_min,
                                   rtol=1e-12)


def test_sde_limit_solves_the_variance_equation():
    # dv/dr = 2(1 − 2/c)v + 2 in reverse time r, integrated with a fine RK4 in t
    lam, t_min, t_max = 3.0, 0.05, 1.0

    def rhs(t, v):  # dv/dt = −dv/dr
        c = 1 + (lam - 1) * np.exp(-2 * t)
        return -(2 * (1 - 2 / c) * v + 2)

    t = np.linspace(t_max, t_min, 20001)
    v = 1.0
    for a, b in zip(t[:-1], t[1:]):
        h = b - a
        k1 = rhs(a, v)
        k2 = rhs(a + h / 2, v + h / 2 * k1)
        k3 = rhs(a + h / 2, v + h / 2 * k2)
        k4 = rhs(b, v + h * k3)
        v += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    ref = limit_covariance([lam], method="exponential", t_min=t_min, t_max=t_max)[0]
    assert v == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("method", list(METHODS))
def test_sampled_covariance_matches_the_propagated_covariance(method):
    # 20000 samples: the variance estimate of coordinate i has relative standard error
    # √(2/B) = 1 %; 4.5 standard errors over 5 coordinates and 4 methods keeps false
    # failures below ~1e-4.
    B = 20000
    x = sample(GaussianScore(LAM), B, seed=3, method=method, steps=60, batch=B)
    v = expected_covariance(LAM, method=method, steps=60)
    z = (x.var(axis=0) - v) / (v * np.sqrt(2.0 / B))
    assert np.max(np.abs(z)) < 4.5
    assert np.max(np.abs(x.mean(axis=0)) / np.sqrt(v / B)) < 4.5


def test_samples_are_reproducible_and_seeded():
    a = sample(GaussianScore(LAM), 64, seed=5, steps=20)
    b = sample(GaussianScore(LAM), 64, seed=5, steps=20)
    c = sample(GaussianScore(LAM), 64, seed=6, steps=20)
    assert np.array_equal(a, b) and not np.allclose(a, c)
    assert a.dtype == np.float64 and isinstance(a, np.ndarray)


def test_scores_are_gradients_of_the_log_densities():
    rng = np.random.default_rng(0)
    pts = rng.standard_normal((7, 4))
    x = rng.standard_normal((3, 4))
    t = 0.07
    with jax.enable_x64(True):
        delta = 1 - jnp.exp(-2 * t)

        def log_mix(y):
            d2 = jnp.sum((y[None] - jnp.exp(-t) * pts) ** 2, axis=1)
            return jax.scipy.special.logsumexp(-d2 / (2 * delta))

        def log_gauss(y):
            return -0.5 * jnp.sum(y * y / (jnp.exp(-2 * t) * LAM[:4] + delta))

        ref_mix = np.asarray(jax.vmap(jax.grad(log_mix))(jnp.asarray(x)))
        ref_gauss = np.asarray(jax.vmap(jax.grad(log_gauss))(jnp.asarray(x)))
        got_mix = np.asarray(EmpiricalScore(jnp.asarray(pts))(jnp.asarray(x), t))
        got_gauss = np.asarray(GaussianScore(jnp.asarray(LAM[:4]))(jnp.asarray(x), t))
    np.testing.assert_allclose(got_mix, ref_mix, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got_gauss, ref_gauss, rtol=1e-12)


@pytest.mark.parametrize("method", ["exponential", "heun"])
def test_empirical_score_memorises_at_small_n(method):
    # n = 8 points in d = 16: the exact empirical score sends every sample onto a training
    # point (within √Δ_{t_min}·√d ≈ 0.18 against inter-point distances ≈ 5.7).
    rng = np.random.default_rng(1)
    train = rng.standard_normal((8, 16))
    x = sample(EmpiricalScore(train), 400, seed=2, method=method, steps=100)
    mem = memorisation_fraction(x, train)
    assert mem.fraction >= 0.99


@pytest.mark.parametrize("kwargs,msg", [
    (dict(method="rk45"), "method must be one of"),
    (dict(schedule="cosine"), "schedule must be one of"),
    (dict(steps=0), "steps must be a positive integer"),
    (dict(t_min=1.0, t_max=0.5), "t_max must exceed t_min"),
    (dict(t_min=-1.0), "t_min must be > 0"),
])
def test_bad_sampler_settings_are_rejected(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        sample(GaussianScore(LAM), 4, **kwargs)


def test_bad_scores_and_spectra_are_rejected():
    with pytest.raises(ValueError, match="score must be a score model"):
        sample(lambda x, t: -x, 4)
    with pytest.raises(ValueError, match="sigma_eigs must be"):
        expected_covariance([1.0, -1.0])
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        sample(GaussianScore(LAM), 0)
