"""Weight decay λ (``Problem.ridge``): the finite-size flow, the asymptotic curves, the CLI.

Convention: training minimises L + λΔ_t‖M‖²_F/d (M = A/√p), so the flow is the ridgeless
one with U → U + λI; every reported loss is the loss without the penalty term.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

import rfdiff
from rfdiff._theory.batched import batched_curves
from rfdiff._theory.curves import combine_traces, contour_points
from rfdiff.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # derivations/ is a top-level folder, not installed

from derivations import ridge as ridge_derivation  # noqa: E402

TAU = np.array([0.0, 0.3, 4.0, 60.0, 1e3, 1e5, np.inf])


def _problem(ridge=0.0, activation="tanh"):
    return rfdiff.Problem(4, 2, 0.1, activation, ridge=ridge)


def test_derivation_checks():
    ridge_derivation.check()


# ----------------------------------------------------------------------------- Problem

def test_problem_field_keeps_order_and_compares():
    pr = rfdiff.Problem(4, 2, 0.1, "tanh", rfdiff.tools.isotropic(), 0.05)
    assert pr.ridge == 0.05 and rfdiff.Problem(4, 2, 0.1).ridge == 0.0
    assert dataclasses.replace(pr, psi_n=3.0).ridge == 0.05
    assert pr == rfdiff.Problem(4, 2, 0.1, pr.activation, pr.spectrum, 0.05)
    assert pr != dataclasses.replace(pr, ridge=0.0)
    assert pr.params()["ridge"] == 0.05


@pytest.mark.parametrize("bad", [-1e-3, math.nan, math.inf, True, "0.1", 1j])
def test_problem_rejects_bad_ridge(bad):
    with pytest.raises(ValueError, match="ridge"):
        _problem(ridge=bad)


# ----------------------------------------------------------------------------- finite size

@pytest.fixture(scope="module")
def inst():
    return rfdiff.finite_size_instance(_problem(), 10, seed=4)


def test_flow_relaxes_to_ridge_minimiser(inst):
    lam = 0.05
    flow = rfdiff.gradient_flow(inst, ridge=lam)
    U, V, delta = np.asarray(inst.U), np.asarray(inst.V), inst.problem.delta
    M_star = -np.linalg.solve(U + lam * np.eye(inst.p), V).T / math.sqrt(delta)
    got = rfdiff.tools.weights_at(flow, np.inf)[0]
    np.testing.assert_allclose(got, M_star, rtol=0, atol=1e-10 * np.max(np.abs(M_star)))
    # the gradient of the penalised loss vanishes there, that of L does not
    grad = M_star @ (U + lam * np.eye(inst.p)) + V.T / math.sqrt(delta)
    assert np.max(np.abs(grad)) < 1e-10 * np.max(np.abs(V))
    assert np.max(np.abs(M_star @ U + V.T / math.sqrt(delta))) > 1e-3 * np.max(np.abs(V))


def test_flow_matches_matrix_exponential_and_penalty_free_losses(inst):
    # M(τ) = M* + (M0 − M*) e^{−c(U+λ)τ}; the losses are those of losses_of (no penalty)
    lam = 0.2
    rng = np.random.default_rng(0)
    M0 = rng.normal(size=(inst.d, inst.p)) / math.sqrt(inst.p)
    flow = rfdiff.gradient_flow(inst, M0, ridge=lam)
    U, V, delta = np.asarray(inst.U), np.asarray(inst.V), inst.problem.delta
    Ul = U + lam * np.eye(inst.p)
    M_star = -np.linalg.solve(Ul, V).T / math.sqrt(delta)
    tau = TAU[1:]
    Ms = np.stack([M_star + (M0 - M_star) @ scipy.linalg.expm(-flow.rate * Ul * t)
                   if np.isfinite(t) else M_star for t in tau])
    np.testing.assert_allclose(rfdiff.tools.weights_at(flow, tau, M0), Ms, rtol=0, atol=1e-10)
    curves = rfdiff.learning_curves(flow, tau)
    train, test, score = rfdiff.tools.losses_of(inst, Ms)
    for got, want in ((curves.train_loss, train), (curves.test_loss, test),
                      (curves.score_error, score)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=1e-10)


def test_flow_ridge_default_and_zero(inst):
    base = rfdiff.learning_curves(rfdiff.gradient_flow(inst), TAU)
    zero = rfdiff.learning_curves(rfdiff.gradient_flow(inst, ridge=0.0), TAU)
    np.testing.assert_array_equal(np.asarray(zero.test_loss), np.asarray(base.test_loss))
    # ridge=None reads the problem's field
    lam = 0.03
    via_problem = dataclasses.replace(inst, problem=dataclasses.replace(inst.problem, ridge=lam))
    a = rfdiff.learning_curves(rfdiff.gradient_flow(via_problem), TAU)
    b = rfdiff.learning_curves(rfdiff.gradient_flow(inst, ridge=lam), TAU)
    np.testing.assert_array_equal(np.asarray(a.train_loss), np.asarray(b.train_loss))
    assert float(np.asarray(b.train_loss)[-1]) > float(np.asarray(base.train_loss)[-1])
    with pytest.raises(ValueError, match="ridge"):
        rfdiff.gradient_flow(inst, ridge=-1.0)


def test_null_modes_forget_the_start_with_ridge():
    # linear activation at ψ_p > ψ_n + 1: U is singular; with λ > 0 its null modes decay too
    inst = rfdiff.finite_size_instance(rfdiff.Problem(6, 2, 0.1, "linear"), 4, seed=1)
    lam = 0.1
    rng = np.random.default_rng(1)
    M0 = rng.normal(size=(inst.d, inst.p))
    flow = rfdiff.gradient_flow(inst, M0, ridge=lam)
    assert bool(np.any(np.asarray(flow.null)))
    U, V = np.asarray(inst.U), np.asarray(inst.V)
    M_star = -np.linalg.solve(U + lam * np.eye(inst.p), V).T / math.sqrt(inst.problem.delta)
    np.testing.assert_allclose(rfdiff.tools.weights_at(flow, np.inf, M0)[0], M_star,
                               rtol=0, atol=1e-10)


# ----------------------------------------------------------------------------- theory

def _finite_traces(inst, pts, lam):
    """s, F_pop and F_I of one finite matrix with the resolvents of U + λI."""
    ev, Q = np.linalg.eigh(np.asarray(inst.U))
    ev = ev + lam
    Wt = np.asarray(inst.W) / math.sqrt(inst.d)
    Kh = Q.T @ (Wt @ Wt.T) @ Q
    Uh = Q.T @ np.asarray(inst.U_pop) @ Q

    def s(z):
        return np.sum(np.diag(Kh) / (ev - z[..., None]), axis=-1) / inst.p

    r = 1 / (ev - pts.z_f[..., None])
    F_pop = np.einsum("ab,ba,tja,tkb->tjk", Kh, Uh, r, r, optimize=True) / inst.d
    F_I = np.einsum("aa,tja,tka->tjk", Kh, r, r, optimize=True) / inst.d
    return s(pts.z_f), s(pts.z_g), F_pop, F_I


@pytest.mark.parametrize("lam", [1e-2, 0.3])
def test_contour_assembly_with_ridge_matches_eigendecomposition(lam):
    # One Gaussian-equivalent matrix (V = bW̃ exactly): the contour sums of its traces with
    # the loss formulas of the ridge theory give its exact penalised-flow curves.
    problem = _problem(ridge=lam)
    inst = rfdiff.finite_size_instance(problem, 20, seed=3, method="gaussian_equivalent")
    tau = np.array([0.0, 1e-3, 0.5, 7.0, 120.0, 3e3, 1e5, np.inf])
    pts = contour_points(problem, tau)
    got = combine_traces(problem, pts, *_finite_traces(inst, pts, lam))
    ref = rfdiff.learning_curves(rfdiff.gradient_flow(inst), tau)
    for field in ("train_loss", "test_loss", "score_error"):
        np.testing.assert_allclose(getattr(got, field), np.asarray(getattr(ref, field)),
                                   rtol=0, atol=1e-9, err_msg=field)
    with pytest.raises(ValueError, match="F_I"):
        combine_traces(problem, pts, *_finite_traces(inst, pts, lam)[:3])


@pytest.fixture(scope="module")
def ridgeless():
    return rfdiff.asymptotic_curves(_problem(), TAU)


def test_asymptotic_small_ridge_reproduces_ridgeless(ridgeless):
    zero = rfdiff.asymptotic_curves(_problem(), TAU, ridge=0.0)
    np.testing.assert_array_equal(zero.test_loss, ridgeless.test_loss)
    np.testing.assert_array_equal(zero.train_loss, ridgeless.train_loss)
    tiny = rfdiff.asymptotic_curves(_problem(), TAU, ridge=1e-12)
    assert tiny.ok
    for field in ("train_loss", "test_loss", "score_error"):
        np.testing.assert_allclose(getattr(tiny, field), getattr(ridgeless, field),
                                   rtol=0, atol=1e-8)


def test_asymptotic_ridge_keyword_field_and_batched(ridgeless):
    lam = 0.1
    kw = rfdiff.asymptotic_curves(_problem(), TAU, ridge=lam)
    field = rfdiff.asymptotic_curves(_problem(ridge=lam), TAU)
    assert kw.ok
    np.testing.assert_array_equal(kw.test_loss, field.test_loss)
    # weight decay raises the end-of-training train loss and lowers the test loss here
    assert kw.train_loss[-1] > ridgeless.train_loss[-1] + 1e-3
    assert kw.test_loss[-1] < ridgeless.test_loss[-1] - 1e-3
    b = batched_curves(_problem(ridge=lam), [4.0], [2.0], TAU[1:])
    np.testing.assert_allclose(b.test_loss[0], kw.test_loss[1:], rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.train_loss[0], kw.train_loss[1:], rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="ridge"):
        rfdiff.asymptotic_curves(_problem(), TAU, ridge=-0.1)


def test_ridge_makes_tau_inf_available_without_s2():
    problem = _problem(activation="linear")  # s_t² = 0: U is singular in the limit
    with pytest.raises(ValueError, match="s_t"):
        rfdiff.asymptotic_curves(problem, [np.inf])
    res = rfdiff.asymptotic_curves(problem, [1e4, np.inf], ridge=0.1)
    assert res.ok and np.all(np.isfinite(res.test_loss))


def test_theory_matches_finite_size_at_small_d():
    # exact finite-size flow at d = 60 against the limit, λ = 0.1, every τ. The deviations
    # are O(1/d): the benchmark (benchmarks/results/ridge.txt, same problem) measures at
    # most ≈ 0.4/d for the losses at d = 100–400; 1.5/d leaves room for the seed-to-seed
    # fluctuations of one draw at this size. E_score = (L_test − const)/Δ_t carries the
    # same deviation divided by Δ_t.
    lam, d = 0.1, 60
    th = rfdiff.asymptotic_curves(_problem(ridge=lam), TAU)
    fs = rfdiff.learning_curves(rfdiff.gradient_flow(
        rfdiff.finite_size_instance(_problem(ridge=lam), d, seed=0)), TAU)
    delta = _problem().delta
    for field, tol in (("train_loss", 1.5 / d), ("test_loss", 1.5 / d),
                       ("score_error", 1.5 / (d * delta))):
        np.testing.assert_allclose(np.asarray(getattr(fs, field)), getattr(th, field),
                                   rtol=0, atol=tol, err_msg=field)
    # and the limit resolves the effect of λ: the ridgeless limit is far outside these bounds
    ridgeless = rfdiff.asymptotic_curves(_problem(), [np.inf])
    assert abs(float(ridgeless.score_error[-1]) - float(th.score_error[-1])) > 10 / (d * delta)


# ----------------------------------------------------------------------------- CLI

def test_cli_ridge_flag(capsys):
    argv = ["curves", "--psi-p", "4", "--psi-n", "2", "--points", "3", "--tau-max", "100",
            "--json"]
    assert main(argv) == 0
    base = json.loads(capsys.readouterr().out)
    assert main(argv + ["--ridge", "0.1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["parameters"]["ridge"] == 0.1 and base["parameters"]["ridge"] == 0.0
    assert out["test_loss"][-1] != base["test_loss"][-1]
    assert main(["simulate", "--d", "8", "--points", "3", "--ridge", "0.1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["parameters"]["ridge"] == 0.1


def test_cli_phase_diagram_with_ridge(capsys):
    """Weight decay reaches the phase map: it lowers L_gen(∞) (memorisation is penalised)."""
    argv = ["phase-diagram", "--psi-p", "8", "--points", "3", "--quiet", "--json"]
    assert main(argv) == 0
    base = json.loads(capsys.readouterr().out)
    assert main(argv + ["--ridge", "0.1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["parameters"]["ridge"] == 0.1
    late = np.array(out["gen_loss"], dtype=float)[:, -1]
    late0 = np.array(base["gen_loss"], dtype=float)[:, -1]
    assert np.all(late < late0)


@pytest.mark.parametrize("command", ["curves", "simulate", "timescales", "phase-diagram",
                                     "generate"])
def test_cli_bad_ridge_exits_2(command, capsys):
    assert main([command, "--ridge", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ridge" in err[0]


# ----------------------------------------------------------------------------- discrete twins

def test_discrete_training_follows_the_penalised_flow():
    # λ = 1 at τ ≈ 10 moves the train loss by ≈ 0.04 from the ridgeless flow; gradient
    # descent (O(η) from the flow, ~1e-5 here) and noisy training (a fluctuation excess
    # ~3e-4 at η = 0.01·d/Δ_t, p times below the paper's step, see docs/protocol.md) must
    # both sit on the penalised flow.
    pr = _problem(ridge=1.0)
    inst = rfdiff.finite_size_instance(pr, 16, seed=0)
    eta = 0.01 * inst.d / pr.delta
    noisy = rfdiff.noisy_training(inst, eta, 3000, points=2, seed=0)
    gd = rfdiff.gradient_descent(inst, eta, 3000, points=2)
    tau = np.asarray(gd.tau)
    flow = rfdiff.learning_curves(rfdiff.gradient_flow(inst), tau)
    plain = rfdiff.learning_curves(rfdiff.gradient_flow(inst, ridge=0.0), tau)
    assert abs(float(plain.train_loss[-1]) - float(flow.train_loss[-1])) > 0.02
    np.testing.assert_allclose(np.asarray(gd.train_loss), np.asarray(flow.train_loss),
                               rtol=0, atol=1e-4)
    np.testing.assert_allclose(np.asarray(noisy.train_loss)[-1:],
                               np.asarray(flow.train_loss)[-1:], rtol=0, atol=3e-3)


def test_spectral_timescales_are_those_of_u_plus_ridge():
    """The flow with weight decay is that of U + λI: same edges, rates shifted by λ."""
    lam = 0.05
    pr = rfdiff.Problem(8, 2, 0.1)
    base = rfdiff.core.spectral_timescales(pr)
    shifted = rfdiff.core.spectral_timescales(dataclasses.replace(pr, ridge=lam))
    scale = pr.psi_p / pr.delta
    for key in ("spectral", "onset"):
        expect = scale / (scale / base.tau_mem[key] + lam)
        assert shifted.tau_mem[key] == pytest.approx(expect, rel=1e-12)
        assert shifted.tau_mem[key] < base.tau_mem[key]
    assert shifted.tau_gen["spectral"] == pytest.approx(
        scale / (scale / base.tau_gen["spectral"] + lam), rel=1e-12)
    for a, b in zip(base.parts, shifted.parts):
        assert (a["lo"], a["hi"]) == (b["lo"], b["hi"])
        assert b["loss_rate_lo"] == pytest.approx(a["loss_rate_lo"] + 4 * lam / scale)
