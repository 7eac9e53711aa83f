"""The noisy protocol's excess over the flow: prediction against measurement."""

import numpy as np
import pytest

import rfdiff
from rfdiff.tools import protocol_excess, protocol_measurement

NAMES = ("train_loss", "test_loss", "score_error")


@pytest.fixture(scope="module")
def tiny():
    problem = rfdiff.Problem(4, 2, 0.1, "tanh")
    return rfdiff.finite_size_instance(problem, 8, seed=0)


@pytest.fixture(scope="module")
def measured(tiny):
    # δτ = 0.05 (a quarter of the paper's 0.01ψ_p/Δ_t here): the O(η) corrections to the
    # ratio are ≈ 0.2δτ ≈ 1 % at this size (benchmarks/results/protocol.txt), below the
    # statistical error; 64 runs give ≈ 4 % per τ, 64 draws per point ≈ 2 %
    eta = 0.05 * tiny.d**2
    meas = protocol_measurement(tiny, eta, 200, seeds=64, points=5)
    pred = protocol_excess(tiny, eta, meas.tau, noise_draws=64)
    return meas, pred


def test_noise_excess_matches_noisy_training(measured):
    meas, pred = measured
    for i, name in enumerate(NAMES):
        m, p = np.asarray(meas.noise[i]), np.asarray(pred.noise[i])
        se = np.hypot(meas.noise_se[i], pred.noise_se[i])
        assert np.all(p > 0), name
        # per τ within 4 standard errors (+1 % for the O(η) term), and pooled over τ
        # within 8 %: a factor 2 in the prefactor or in the relaxation rate fails both
        assert np.all(np.abs(m - p) < 4 * se + 0.01 * p), (name, m / p, se / p)
        assert abs(m.sum() / p.sum() - 1) < 0.08, (name, m.sum() / p.sum())


def test_discretisation_is_the_closed_form_of_gradient_descent(measured):
    # the run of gradient_descent against the mode-by-mode closed form (ℓ-advanced clock)
    meas, pred = measured
    for i in range(3):
        np.testing.assert_allclose(pred.discretisation[i], meas.discretisation[i],
                                   rtol=1e-9, atol=1e-14)
        assert np.all(np.asarray(pred.discretisation[i]) < 0)  # GD runs ahead of the flow


def test_total_excess_over_the_flow(measured):
    # the raw curves: mean over runs of noisy − flow, whose spread comes from the term
    # linear in M − M̄ (a standard error of the order of the excess itself at small τ)
    meas, pred = measured
    for i, name in enumerate(NAMES):
        diff = np.asarray(meas.total[i]) - np.asarray(pred.total[i])
        bound = 4 * np.hypot(meas.direct_se[i], pred.noise_se[i])
        assert np.all(np.abs(diff) < bound), (name, diff, bound)


def test_time_integral_is_resolved(tiny, measured):
    # same draws (same seed and batches), twice the nodes: only the interpolation of the
    # source between nodes moves
    meas, pred = measured
    finer = protocol_excess(tiny, pred.eta, meas.tau, noise_draws=64, nodes_per_decade=32)
    assert finer.nodes > pred.nodes
    for x, y in zip(pred.noise, finer.noise):
        np.testing.assert_allclose(x, y, rtol=3e-3)
    zero = protocol_excess(tiny, pred.eta, [0.0], noise_draws=4)
    assert all(float(v[0]) == 0.0 for v in zero.noise + zero.discretisation)


def test_noise_of_the_protocol_is_not_the_training_set(tiny):
    # the protocol's noise once shared draw()'s data stream: with the instance's own seed
    # the first step had ξ = X (isotropic data), i.e. exactly the step computed here
    from rfdiff._finite.training import _gd_weights, _noisy_weights

    pr, d = tiny.problem, tiny.d
    eta = 0.05 * d**2
    ks = np.array([1, 4, 14, 53, 200])  # the fixture's logged steps: no new compilation
    import jax

    with jax.enable_x64(True):
        D1 = (np.asarray(_noisy_weights(tiny, eta, ks, 0))[0]
              - np.asarray(_gd_weights(tiny, eta, ks)[0])[0])
    X = np.asarray(tiny.X)
    Wt = np.asarray(tiny.W) / np.sqrt(d)
    F = np.tanh(Wt @ (np.exp(-pr.t) * X + np.sqrt(pr.delta) * X))
    h = 2 * eta / (tiny.p * d)
    D_same = -h * np.sqrt(pr.delta) * (F @ X.T / tiny.n - np.asarray(tiny.V)).T
    assert np.linalg.norm(D1 - D_same) > 0.5 * np.linalg.norm(D_same)


def test_arguments_are_checked(tiny):
    problem = tiny.problem
    mc = rfdiff.finite_size_instance(problem, 8, seed=0, method="monte_carlo",
                                     noise_draws=4)
    with pytest.raises(ValueError, match="method='exact'"):
        protocol_excess(mc, 1.0, [1.0])
    with pytest.raises(ValueError, match="eta"):
        protocol_excess(tiny, 1e6, [1.0])
    with pytest.raises(ValueError, match="tau"):
        protocol_excess(tiny, 1.0, [np.inf])
    with pytest.raises(ValueError, match="tau"):
        protocol_excess(tiny, 1.0, [-1.0])
    with pytest.raises(ValueError, match="noise_draws"):
        protocol_excess(tiny, 1.0, [1.0], noise_draws=3)
    with pytest.raises(ValueError, match="seeds"):
        protocol_measurement(tiny, 1.0, 5, seeds=1)
    with pytest.raises(ValueError, match="instance"):
        protocol_measurement("inst", 1.0, 5)
