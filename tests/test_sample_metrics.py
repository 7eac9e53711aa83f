import numpy as np
import pytest
import scipy.integrate
import scipy.stats

from rfdiff._generation.metrics import (gaussian_kl, memorisation_fraction, sample_metrics,
                                    sliced_wasserstein, two_nearest)


def test_two_nearest_matches_brute_force():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((37, 5)), rng.standard_normal((11, 5))
    dist = np.linalg.norm(x[:, None] - y[None], axis=2)
    ref = np.sort(dist, axis=1)[:, :2]
    # Gram-expansion distances lose ~1e-15 relative accuracy in the squares
    np.testing.assert_allclose(two_nearest(x, y, block=8), ref, rtol=1e-10, atol=1e-12)


def test_memorisation_fraction_of_copies_and_of_fresh_points():
    rng = np.random.default_rng(1)
    train = rng.standard_normal((20, 16))
    copies = train[rng.integers(0, 20, 300)] + 0.05 * rng.standard_normal((300, 16))
    fresh = rng.standard_normal((300, 16))
    assert memorisation_fraction(copies, train).fraction == 1.0
    # in d = 16 a fresh point's nearest/second-nearest ratio is ≈ 0.9: none below 1/3
    assert memorisation_fraction(fresh, train).fraction == 0.0


def test_bootstrap_error_is_the_binomial_error():
    # half the samples are copies: f = 1/2 and the bootstrap std should match
    # √(f(1−f)/B) = 0.025 within its own sampling error (2000 resamples: ~2 %; allow 10 %)
    rng = np.random.default_rng(2)
    train = rng.standard_normal((30, 12))
    copies = train[rng.integers(0, 30, 200)] + 0.01 * rng.standard_normal((200, 12))
    x = np.concatenate([copies, rng.standard_normal((200, 12))])
    mem = memorisation_fraction(x, train, bootstrap=2000, seed=0)
    assert mem.fraction == 0.5
    assert mem.error == pytest.approx(np.sqrt(0.25 / 400), rel=0.1)
    assert mem.ratio.shape == (400,)


def _with_moments(rng, mean, cov, count):
    """Samples whose sample mean and (unbiased) covariance are exactly ``mean``, ``cov``."""
    z = rng.standard_normal((count, len(mean)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    return mean + z @ np.linalg.cholesky(cov).T


def test_gaussian_kl_is_the_closed_form_for_given_moments():
    rng = np.random.default_rng(3)
    d = 4
    A = rng.standard_normal((d, d))
    C = A @ A.T / d + 0.5 * np.eye(d)
    mu = 0.3 * rng.standard_normal(d)
    lam = np.array([0.5, 1.0, 1.5, 2.0])
    x = _with_moments(rng, mu, C, 50)
    ref = 0.5 * (np.trace(C / lam[:, None]) + np.sum(mu**2 / lam) - d + np.sum(np.log(lam))
                 - np.linalg.slogdet(C)[1])
    assert gaussian_kl(x, lam) == pytest.approx(ref, rel=1e-10)
    assert gaussian_kl(x, np.diag(lam)) == pytest.approx(ref, rel=1e-10)


def test_gaussian_kl_floor_and_singular_samples():
    # For B exact samples E[KL] ≈ d(d + 3)/(4B) (Wishart fluctuations plus the mean);
    # averaging 20 sets of B = 2000 in d = 10 gives ≈ 0.016 with ~5 % spread.
    rng = np.random.default_rng(4)
    kls = [gaussian_kl(rng.standard_normal((2000, 10)), np.ones(10)) for _ in range(20)]
    assert np.mean(kls) == pytest.approx(10 * 13 / 8000, rel=0.2)
    assert gaussian_kl(rng.standard_normal((5, 10)), np.ones(10)) == np.inf


def test_one_dimensional_w2_is_exact():
    # the closed form equals ∫₀¹ (y(u) − Φ⁻¹(u))² du by adaptive quadrature
    y = np.array([[-1.3], [0.2], [0.4], [2.5], [-0.1]])
    sw = sliced_wasserstein(y, [1.0], projections=3)  # every direction is ±1 in 1-D
    ys = np.sort(y[:, 0])
    total = 0.0
    for i in range(5):
        total += scipy.integrate.quad(lambda u: (ys[i] - scipy.stats.norm.ppf(u)) ** 2,
                                      i / 5, (i + 1) / 5, limit=200)[0]
    assert sw == pytest.approx(np.sqrt(total), rel=1e-7)


def test_sliced_wasserstein_of_a_rescaled_gaussian():
    # W₂(N(0, a²), N(0, 1)) = |a − 1| in every direction; with B = 20000 the empirical
    # excess is O(B^{-1/2}) ≈ 0.01
    rng = np.random.default_rng(5)
    x = 1.5 * rng.standard_normal((20000, 6))
    assert sliced_wasserstein(x, np.ones(6)) == pytest.approx(0.5, abs=0.02)
    assert sliced_wasserstein(rng.standard_normal((20000, 6)), np.ones(6)) < 0.03


def test_sample_metrics_keys_and_nearest_neighbours():
    rng = np.random.default_rng(6)
    train, test = rng.standard_normal((25, 8)), rng.standard_normal((25, 8))
    copies = train[rng.integers(0, 25, 100)] + 0.01 * rng.standard_normal((100, 8))
    m = sample_metrics(copies, train, test, np.ones(8))
    assert set(m) == {"f_mem", "f_mem_err", "gaussian_kl", "sliced_w2", "nn_train",
                      "nn_test", "closer_to_train", "second_moment"}
    assert m["f_mem"] == 1.0 and m["closer_to_train"] == 1.0
    assert m["nn_train"] < 0.1 < m["nn_test"]
    assert m["second_moment"] == pytest.approx(np.mean(np.sum(copies**2, axis=1)) / 8)


@pytest.mark.parametrize("call,msg", [
    (lambda: memorisation_fraction(np.zeros((3, 2)), np.zeros((4, 2)), threshold=2.0),
     "threshold must be in"),
    (lambda: memorisation_fraction(np.zeros((3, 2)), np.zeros((4, 3))),
     "points must have 2 columns"),
    (lambda: two_nearest(np.zeros((3, 2)), np.zeros((1, 2))), "at least 2 points"),
    (lambda: gaussian_kl(np.zeros((3, 2)), [1.0, -1.0]), "sigma must be positive definite"),
    (lambda: sliced_wasserstein(np.full((3, 2), np.nan), [1.0, 1.0]),
     "samples must be a finite 2-D array"),
])
def test_bad_inputs_are_rejected(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
