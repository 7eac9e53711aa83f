import numpy as np
import pytest

import rfdiff
from conftest import loglog_slope


@pytest.fixture(scope="module")
def small():
    problem = rfdiff.Problem(8, 2, 0.1, "tanh", rfdiff.tools.two_atom())
    inst = rfdiff.finite_size_instance(problem, 16, seed=4)
    return inst, rfdiff.gradient_flow(inst)


def test_flow_matches_direct_losses_of_its_weights(small):
    inst, flow = small
    tau = np.array([0.0, 0.3, 5.0, 300.0, np.inf])
    c = rfdiff.learning_curves(flow, tau)
    M = rfdiff.tools.weights_at(flow, tau)
    train, test, score = rfdiff.tools.losses_of(inst, M)
    np.testing.assert_allclose(c.train_loss, train, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.test_loss, test, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.score_error, score, rtol=0, atol=1e-11)
    assert c.train_loss[0] == pytest.approx(1.0, abs=1e-15)  # A(0) = 0 predicts s = 0


def test_weights_solve_the_ode(small):
    # dM/dτ = −(2Δ/ψp)(M U + Vᵀ/√Δ), central difference with step h: error O(h²)
    inst, flow = small
    pr = inst.problem
    tau, h = 3.0, 1e-4
    M = rfdiff.tools.weights_at(flow, [tau - h, tau, tau + h])
    deriv = (M[2] - M[0]) / (2 * h)
    rhs = -(2 * pr.delta / pr.psi_p) * (M[1] @ inst.U + inst.V.T / np.sqrt(pr.delta))
    assert np.max(np.abs(deriv - rhs)) < 1e-7 * np.max(np.abs(rhs))


def test_infinite_time_is_the_pseudo_inverse_solution(small):
    inst, flow = small
    c = rfdiff.learning_curves(flow, [np.inf, 1e12])
    ref = 1 - np.trace(inst.V.T @ np.linalg.pinv(inst.U, rcond=1e-13) @ inst.V) / inst.d
    assert c.train_loss[0] == pytest.approx(ref, abs=1e-9)
    assert c.train_loss[1] == pytest.approx(c.train_loss[0], abs=1e-6)


def test_nonzero_initial_condition(small):
    inst, _ = small
    rng = np.random.default_rng(0)
    M0 = 0.1 * rng.standard_normal((inst.d, inst.p))
    flow = rfdiff.gradient_flow(inst, M0=M0)
    tau = np.array([0.0, 1.0, 50.0])
    c = rfdiff.learning_curves(flow, tau)
    M = rfdiff.tools.weights_at(flow, tau, M0=M0)
    np.testing.assert_allclose(M[0], M0, atol=1e-13)
    train, test, score = rfdiff.tools.losses_of(inst, M)
    np.testing.assert_allclose(c.train_loss, train, atol=1e-11)
    np.testing.assert_allclose(c.test_loss, test, atol=1e-11)
    np.testing.assert_allclose(c.score_error, score, atol=1e-10)
    with pytest.raises(ValueError, match="M0 must have shape"):
        rfdiff.gradient_flow(inst, M0=np.zeros((2, 2)))


def test_tiny_and_zero_eigenvalues_are_safe():
    # ψp > ψn + 1 with linear σ: U has p − n − d... exact zero modes (s_t² = 0)
    problem = rfdiff.Problem(8, 2, 0.1, "linear")
    inst = rfdiff.finite_size_instance(problem, 10, seed=0, method="gaussian_equivalent")
    flow = rfdiff.gradient_flow(inst)
    assert flow.null.sum() >= inst.p - inst.n - inst.d
    c = rfdiff.learning_curves(flow, [1e-30, 1.0, 1e8, np.inf])
    assert np.all(np.isfinite(c.train_loss)) and np.all(np.isfinite(c.score_error))
    assert c.train_loss[-1] == pytest.approx(c.train_loss[-2], abs=1e-8)
    with pytest.raises(ValueError, match="tau must be"):
        rfdiff.learning_curves(flow, [-1.0])


def test_reference_learning_curves_d100(paper_flows):
    # THEORY.md §6 reference: L_train, L_test, E_score ≈ 0.958/0.958/0.77 at τ=1 and
    # ≈ 0.82/0.84/0.10 at τ=10; E_score smallest near τ ≈ 10–15.
    tau = np.concatenate([np.logspace(-1, 5, 241), [np.inf]])
    curves = [rfdiff.learning_curves(f, tau) for f in paper_flows]
    for c in curves:
        i1, i10 = np.argmin(np.abs(tau - 1)), np.argmin(np.abs(tau - 10))
        assert c.train_loss[i1] == pytest.approx(0.958, abs=0.002)
        assert c.test_loss[i1] == pytest.approx(0.958, abs=0.002)
        assert c.score_error[i1] == pytest.approx(0.77, abs=0.01)
        assert c.train_loss[i10] == pytest.approx(0.82, abs=0.005)
        assert c.test_loss[i10] == pytest.approx(0.84, abs=0.005)
        assert c.score_error[i10] == pytest.approx(0.10, abs=0.01)
        # a single minimum of E_score at τ of order 10: decreasing then increasing
        k = int(np.argmin(c.score_error))
        assert 5 < tau[k] < 30
        assert np.all(np.diff(c.score_error[: k + 1]) < 0)
        assert np.all(np.diff(c.score_error[k:-1]) > -1e-12)
        # L_gen ≈ 0 before the minimum, grows by orders of magnitude after it
        early = np.abs(c.gen_loss[tau < 1.0]).max()
        assert early < 1e-3
        assert c.gen_loss[-1] > 1e3 * early  # orders of magnitude over training
        assert c.gen_loss[-1] > 10 * abs(c.gen_loss[k])  # and still growing after τ_gen
    # seeds: losses agree within 1 % at every τ; E_score (a loss difference divided
    # by Δ_t ≈ 0.18, so fluctuations are amplified ~5×) within 5 %
    a, b = curves
    assert np.max(np.abs(a.train_loss / b.train_loss - 1)) < 0.01
    assert np.max(np.abs(a.test_loss / b.test_loss - 1)) < 0.01
    assert np.max(np.abs(a.score_error / b.score_error - 1)) < 0.05


def test_gradient_descent_converges_to_flow_at_first_order(small):
    inst, flow = small
    T = 20.0
    errs, steps_tau = [], [0.4, 0.2, 0.1, 0.05]
    for dtau in steps_tau:
        c = rfdiff.gradient_descent(inst, eta=dtau * inst.d**2, steps=int(round(T / dtau)),
                                    points=12)
        ref = rfdiff.learning_curves(flow, c.tau)
        errs.append(np.max(np.abs(c.test_loss - ref.test_loss)))
    slope, se = loglog_slope(steps_tau, errs)
    # explicit Euler on a linear ODE: global error ∝ δτ; the fit over 3 octaves is clean
    assert abs(slope - 1.0) < 0.05, (slope, se, errs)


def test_noisy_training_tracks_flow(small):
    # fresh noise per step: SGD-like fluctuations of relative size ~ (δτ/ψp)^{1/2}; at
    # δτ = 0.05 the losses stay within 1 % of the flow over 400 steps
    inst, flow = small
    c = rfdiff.noisy_training(inst, eta=0.05 * inst.d**2, steps=400, points=10, seed=1)
    ref = rfdiff.learning_curves(flow, c.tau)
    assert np.max(np.abs(c.train_loss / ref.train_loss - 1)) < 0.01
    adam = rfdiff.noisy_training(inst, eta=1e-3, steps=200, points=5, optimizer="adam")
    assert adam.train_loss[-1] < adam.train_loss[0] < 1.0
    with pytest.raises(ValueError, match="optimizer must be"):
        rfdiff.noisy_training(inst, eta=1.0, steps=2, optimizer="sgd")
