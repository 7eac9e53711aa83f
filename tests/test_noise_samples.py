"""Finitely many noise samples (``Problem.noise_samples`` = m): the spectrum of U_m.

U_m = (1/(nm)) Σ_ν Σ_j σ_νj σ_νjᵀ with m fixed noise draws per training point. Its limiting
spectrum solves the one-point equations with μ = 1/m (docs/theory.md, "Finitely many noise
samples"); m = ∞ (the default) is the noise-averaged model and keeps its two-unknown solver
path unchanged. The learning curves of the m-sample model need the traces of V_m, which is
correlated with U_m (:mod:`rfdiff._theory.noise_samples`): they are checked against
Gaussian-equivalent and real (``monte_carlo``) matrices here. The parts of the spectrum
(structure, roles, edges) are derived for m = ∞ only and refuse finite m.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import rfdiff
from rfdiff._finite.instance import _monte_carlo_train, draw
from rfdiff._io import dumps
from rfdiff._theory import (
    as_params,
    mean_eigenvalue,
    solve_on_grid,
    solve_resolvent,
    spectral_params,
    spectral_scale,
)
from rfdiff._theory.batched import batched_curves
from rfdiff._theory.onepoint import unknowns
from rfdiff.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # derivations/ is a top-level folder, not installed

from derivations import noise_samples as noise_samples_derivation


def _problem(m=math.inf, psi_p=8.0, psi_n=2.0):
    return rfdiff.Problem(psi_p, psi_n, 0.1, "tanh", noise_samples=m)


def _scale(problem):
    return float(mean_eigenvalue(spectral_params(problem)))


def test_derivation_checks():
    noise_samples_derivation.check()


# ----------------------------------------------------------------------------- Problem

def test_problem_field_default_and_params():
    assert rfdiff.Problem(8, 2, 0.1).noise_samples == math.inf
    pr = _problem(2)
    assert pr.noise_samples == 2 and isinstance(pr.noise_samples, int)
    assert _problem(np.int64(3)).noise_samples == 3 and _problem(4.0).noise_samples == 4
    assert dataclasses.replace(pr, psi_n=3.0).noise_samples == 2
    assert pr != _problem() and _problem() == rfdiff.Problem(8, 2, 0.1)
    # the JSON parameters of the default model are unchanged; finite m adds one key
    assert "noise_samples" not in _problem().params()
    assert pr.params()["noise_samples"] == 2
    assert rfdiff.load(json.loads(dumps(pr))) == pr


@pytest.mark.parametrize("bad", [0, -1, 2.5, -math.inf, math.nan, True, "2", 1j])
def test_problem_rejects_bad_noise_samples(bad):
    with pytest.raises(ValueError, match="noise_samples"):
        _problem(bad)


def test_params_record():
    assert spectral_params(_problem()).inv_m is None  # the m = ∞ (q, r) path
    assert unknowns(spectral_params(_problem())) == 2
    assert float(spectral_params(_problem(4)).inv_m) == 0.25
    assert unknowns(spectral_params(_problem(4))) == 3
    P = as_params(_problem())
    for bad in (1.5, -0.1, np.array([0.5, 0.5])):
        with pytest.raises(ValueError, match="inv_m"):
            as_params(P._replace(inv_m=bad))


# ----------------------------------------------------------------------------- m = ∞

def test_zero_inverse_samples_is_the_noise_averaged_spectrum():
    """μ = 0 through the three-unknown equations equals the m = ∞ (two-unknown) solution.

    The default (m = ∞) keeps the two-unknown code path of the noise-averaged model itself
    (``inv_m`` None). With μ = 0 given, the s-equation is solved too but F_q, F_r do not
    depend on s, and the spectral bound (hence every ε) is the same to the bit: measured
    agreement ~3e-16 relative, off and on the axis (ε = 1e-10 of the scale); 1e-13 leaves
    room for rounding in the continuation.
    """
    pr = _problem()
    P = as_params(pr)
    P0 = P._replace(inv_m=jnp.asarray(0.0))
    ub = spectral_scale(pr)
    assert spectral_scale(P0) == ub
    z = np.linspace(0.0, ub, 24) + 0.05j * ub
    lam = np.linspace(0.0, ub, 96)
    for a, b in ((solve_resolvent(P, z), solve_resolvent(P0, z)),
                 (solve_on_grid(P, lam), solve_on_grid(P0, lam))):
        assert a.converged.all() and b.converged.all()
        for f in ("q", "r", "s"):
            x, y = getattr(a, f), getattr(b, f)
            assert np.max(np.abs(x - y) / np.abs(x)) < 1e-13, f


# ----------------------------------------------------------------------------- finite m

def test_fixed_and_adaptive_strategies_agree():
    """The fixed-schedule solve (one_point) and the adaptive one (solve_resolvent) for m = 2
    (ψ_p = 8, ψ_n = 2, t = 0.1, tanh) off the axis: two continuations stopping at residuals
    ≤ 1e-10, so 1e-10 relative."""
    pr = _problem(2)
    z = np.array([0.5 + 0.3j, 2.0 + 0.05j, 7.0 + 1.0j])
    a, b = rfdiff.core.one_point(pr, z), solve_resolvent(pr, z)
    assert a.converged.all() and b.converged.all()
    assert np.max(np.abs(a.q - b.q) / np.abs(b.q)) < 1e-10


def test_functional_density_and_derivative():
    """The functional density for m = 2 under jit equals spectral_density, and its reverse
    derivative in μ = 1/m (implicit-function theorem through the 3×3 system) matches
    central differences (h = 1e-6: error ~h² + 1e-16/h ≈ 1e-10) to 1e-6 relative."""
    pr = _problem(2)
    lam = np.array([0.3, 1.0, 5.0])
    with jax.enable_x64(True):
        p = rfdiff.core.params(8.0, 2.0, 0.1, noise_samples=2)

        @jax.jit
        def total(mu):
            return rfdiff.core.density(p.replace(inv_m=mu), lam).sum()

        h = 1e-6
        mus = jnp.asarray([0.5, 0.5 + h, 0.5 - h])
        values = [float(total(mu)) for mu in mus]
        assert np.isclose(values[0], rfdiff.spectral_density(pr, lam)[0].sum(), rtol=1e-12)
        grad = float(jax.jit(jax.grad(total))(mus[0]))
        fd = (values[1] - values[2]) / (2 * h)
        assert abs(grad - fd) < 1e-6 * abs(fd)


def test_functional_curves_finite_m_and_derivative():
    """rfdiff.core.curves of the 2-sample model under jit equals asymptotic_curves, and the
    derivative of the test loss in μ = 1/m matches central differences (h = 1e-5: error
    ~h² + 1e-14/h ≈ 1e-9 against a derivative of order 0.1) to 1e-5 relative."""
    tau = jnp.asarray([1.0, 10.0])
    with jax.enable_x64(True):
        p = rfdiff.core.params(8.0, 2.0, 0.1, noise_samples=2)

        @jax.jit
        def test_loss(mu):
            c = rfdiff.core.curves(p.replace(inv_m=mu), tau)
            return c.test_loss[-1], c.converged

        ref = rfdiff.asymptotic_curves(_problem(2), np.asarray(tau))
        got = rfdiff.core.curves(p, tau)
        np.testing.assert_allclose(np.asarray(got.test_loss), ref.test_loss, rtol=1e-12)
        h = 1e-5
        vals = [test_loss(jnp.asarray(mu)) for mu in (0.5 + h, 0.5 - h)]
        assert all(bool(np.all(c)) for _, c in vals)
        fd = (float(vals[0][0]) - float(vals[1][0])) / (2 * h)
        grad = float(jax.grad(lambda mu: test_loss(mu)[0])(jnp.asarray(0.5)))
        assert abs(grad - fd) < 1e-5 * abs(fd), (grad, fd)


@pytest.mark.parametrize("m", [1, 2])
def test_atom_at_zero_is_the_rank_deficit(m):
    """U_m has rank nm < p: the equations give an atom at 0 of mass 1 − mψ_n/ψ_p.

    ε Im q(iε) → mass with corrections O(ε/gap) (gap ~0.1 here, ε = 1e-9): 1e-6 leaves room.
    """
    pr = _problem(m)
    mass = float(1e-9 * solve_resolvent(pr, np.array([1e-9j])).q.imag[0])
    assert abs(mass - (1.0 - m * 2.0 / 8.0)) < 1e-6


def test_theory_against_monte_carlo_m1():
    """The real U_1 (one fixed noise draw per point, the monte_carlo construction) at d = 40.

    Tolerance: W₁/((1/p)Tr U) measured 0.031–0.048 over seeds 0–3 at d = 40 (finite-size
    O(1/d): 0.020 at d = 100, benchmarks/results/noise_samples.txt), while the m = ∞ limit
    on the same matrices gives 0.108–0.133; 0.07 separates the two. The rank deficit is
    exact: 1 − n/p of the eigenvalues vanish.
    """
    pr = _problem(1)
    inst = rfdiff.finite_size_instance(pr, 40, seed=0, method="monte_carlo")
    assert inst.info["noise_draws"] == 1
    ev = scipy.linalg.eigvalsh(np.asarray(inst.U))
    scale = _scale(pr)
    assert np.sum(np.abs(ev) < 1e-10 * scale) == inst.p - inst.n
    w1 = rfdiff.core.wasserstein1(pr, ev) / scale
    assert w1 < 0.07, w1


def test_gaussian_equivalent_construction():
    """The Gaussian-equivalent U_m: rank nm, and the same G (W, X, Ω) as for m = ∞, so that
    the traces differ only by the sampled noise part (1/(nm))Σ|bW̃ξ + sζ|² − Tr C_e, of
    relative size ~(b² + s²)/(1/p)Tr U · √(2/(nm))·O(1) ≈ 1e-2 here (measured 9.6e-3); bound 0.03.
    """
    pr = _problem(2)
    inst = rfdiff.finite_size_instance(pr, 20, seed=1, method="gaussian_equivalent")
    ev = np.linalg.eigvalsh(np.asarray(inst.U))
    assert np.sum(np.abs(ev) < 1e-10) == inst.p - 2 * inst.n
    assert inst.info["noise_draws"] == 2
    ref = rfdiff.finite_size_instance(_problem(), 20, seed=1, method="gaussian_equivalent")
    tr, tr_ref = np.trace(np.asarray(inst.U)), np.trace(np.asarray(ref.U))
    assert abs(tr / tr_ref - 1.0) < 0.03
    assert np.array_equal(np.asarray(inst.U_pop), np.asarray(ref.U_pop))


def test_monte_carlo_uses_the_problem_draws():
    pr = _problem(3)
    with pytest.raises(ValueError, match="noise_draws"):
        rfdiff.finite_size_instance(pr, 10, method="monte_carlo", noise_draws=5)
    with pytest.raises(ValueError, match="exact"):
        rfdiff.finite_size_instance(pr, 10, method="exact")


# ----------------------------------------------------------------------------- curves

def _ge_traces(problem, d, seeds, z, w):
    """(lin, own, H_pop, H_I) of Gaussian-equivalent U_m, V_m at z (and w), seed means."""
    c = problem.coefficients
    P = spectral_params(problem)
    b, A, s2v2 = float(c.b), float(P.A), float(c.s2) + float(c.v2)
    out = []
    for seed in seeds:
        inst = rfdiff.finite_size_instance(problem, d, seed=seed, method="gaussian_equivalent")
        U, V = np.asarray(inst.U), np.asarray(inst.V)
        Wt = np.asarray(inst.W) / math.sqrt(d)
        p = U.shape[0]
        K = Wt @ Wt.T
        U_pop = (A + b * b) * K + s2v2 * np.eye(p)  # isotropic data: S = K
        Rz = np.linalg.inv(U - z * np.eye(p))
        Rw = np.linalg.inv(U - w * np.eye(p))
        out.append([np.trace(V.T @ Rz @ (b * Wt)) / d, np.trace(V.T @ Rz @ V) / d,
                    np.trace(V.T @ Rz @ U_pop @ Rw @ V) / d, np.trace(V.T @ Rz @ Rw @ V) / d])
    return np.mean(out, axis=0)


def _theory_traces(problem, z, w):
    from rfdiff._theory import one_point_core
    from rfdiff._theory.noise_samples import sample_pair_table, v_traces

    P = spectral_params(problem)
    with jax.enable_x64(True):
        a = one_point_core(P, jnp.asarray([z]))
        b = one_point_core(P, jnp.asarray([w]))
        assert bool(a.converged[0]) and bool(b.converged[0])
        lin, own = v_traces(P, a)
        *_, H_pop, H_I = sample_pair_table(P, a, b)
        naive = P.b2 * P.psi_p * a.s  # V = bW̃, the noise-averaged relation
        return (np.array([complex(lin[0]), complex(own[0]), complex(H_pop[0]),
                          complex(H_I[0])]), complex(naive[0]))


@pytest.mark.parametrize("m", [1, 4])
def test_v_traces_against_gaussian_equivalent(m):
    """The V-traces of the m-sample model against Gaussian-equivalent U_m, V_m at d = 100.

    Tolerance: relative errors measured 0.3–2.5 % at d = 100 (two seeds; the finite-size
    part is O(1/d), 0.4–1.4 % at d = 200), bound 0.05. The noise-averaged relation V = bW̃
    (which ignores that V_m and U_m share the draws) is off by 18–110 % on the same
    matrices: the test would fail with it.
    """
    pr = _problem(m)
    z, w = -0.05 + 0.3j, 0.5 + 0.4j
    th, naive = _theory_traces(pr, z, w)
    fs = _ge_traces(pr, 100, (0, 1), z, w)
    rel = np.abs(th - fs) / np.abs(fs)
    assert np.all(rel < 0.05), rel
    assert abs(naive - fs[0]) / abs(fs[0]) > 0.15 and abs(naive - fs[1]) / abs(fs[1]) > 0.15


def test_curves_at_zero_inverse_samples_are_the_noise_averaged_curves():
    """μ = 0 given (the three-unknown path, the joint-equivalent traces) against m = ∞ (the
    two-unknown path, V = bW̃): the same curves to rounding of the solves."""
    from rfdiff._theory import curves_core, talbot_contour
    from rfdiff._theory.curves import _loss_constants

    pr = rfdiff.Problem(8.0, 2.0, 0.1, "tanh", ridge=1e-2)
    P = spectral_params(pr)
    zhat, omega = talbot_contour(24)
    tau = jnp.asarray([0.5, 5.0, 50.0, np.inf])
    with jax.enable_x64(True):
        C = _loss_constants(pr)
        ref = curves_core(P, C, tau, jnp.asarray(zhat), jnp.asarray(omega))
        got = curves_core(P._replace(inv_m=jnp.asarray(0.0)), C, tau, jnp.asarray(zhat),
                          jnp.asarray(omega))
    assert bool(np.all(got[3])) and bool(np.all(ref[3]))
    for a, b in zip(got[:3], ref[:3]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)


def test_curves_against_monte_carlo_m1():
    """Asymptotic curves of the 1-sample model against the real monte_carlo model at d = 50.

    ψ_p = 8, ψ_n = 4, λ = 1e-2, τ = 1, 10, 100, ∞, seed 0. Measured |deviation| at d = 50
    (seeds 0, 1): train loss ≤ 0.019, test loss ≤ 0.020, score error ≤ 3.1 % relative; at
    d = 100 ≤ 0.012, 0.009 and 1.4 %. Bounds: 0.03 on the losses, 0.05 relative on the score
    error. The m = ∞ curves differ from the same finite size by 0.34–0.36 in the τ = ∞ test
    loss (the 1-sample model fits its own draws): bound 0.2.
    """
    pr = rfdiff.Problem(8.0, 4.0, 0.1, "tanh", noise_samples=1, ridge=1e-2)
    tau = np.array([1.0, 10.0, 100.0, np.inf])
    th = rfdiff.asymptotic_curves(pr, tau, throw=True)
    inst = rfdiff.finite_size_instance(pr, 50, seed=0, method="monte_carlo")
    fs = rfdiff.learning_curves(rfdiff.gradient_flow(inst), tau)
    for name in ("train_loss", "test_loss"):
        dev = np.abs(getattr(th, name) - np.asarray(getattr(fs, name)))
        assert np.all(dev < 0.03), (name, dev)
    rel = np.abs(th.score_error / np.asarray(fs.score_error) - 1.0)
    assert np.all(rel < 0.05), rel
    avg = rfdiff.asymptotic_curves(dataclasses.replace(pr, noise_samples=math.inf), tau)
    assert abs(avg.test_loss[-1] - float(fs.test_loss[-1])) > 0.2


def test_finite_m_curves_batched_and_tau_inf():
    pr = rfdiff.Problem(8.0, 4.0, 0.1, "tanh", noise_samples=4, ridge=1e-2)
    tau = np.array([2.0, 20.0])
    one = rfdiff.asymptotic_curves(pr, tau)
    many = batched_curves(pr, [8.0, 4.0], [4.0, 4.0], tau)
    np.testing.assert_allclose(many.test_loss[0], one.test_loss, rtol=1e-10)
    np.testing.assert_allclose(many.train_loss[0], one.train_loss, rtol=1e-10)
    assert many.converged.all()
    with pytest.raises(ValueError, match="ridge > 0"):
        rfdiff.asymptotic_curves(dataclasses.replace(pr, ridge=0.0), [1.0, np.inf])
    # ridgeless finite times are fine
    assert rfdiff.asymptotic_curves(dataclasses.replace(pr, ridge=0.0), [1.0]).converged.all()


# ----------------------------------------------------------------------------- refusals

def test_structure_refuses_finite_m():
    pr = _problem(2)
    with pytest.raises(NotImplementedError, match="spectral_structure"):
        rfdiff.spectral_structure(pr)
    with pytest.raises(ValueError, match="structure must be None"):
        rfdiff.core.wasserstein1(pr, [1.0], rfdiff.spectral_structure(_problem()))
    with pytest.raises(NotImplementedError, match="diagonal_two_point"):
        rfdiff.core.diagonal_two_point(pr, 1.0 + 1j)
    with pytest.raises(NotImplementedError, match="leading-order"):
        rfdiff.core.memorisation_edges(pr)
    with pytest.raises(NotImplementedError, match="predicted"):
        rfdiff.core.predicted_masses(pr)
    # the population matrix averages the noise: its parameters do not depend on m
    assert rfdiff.core.population_params(pr) == rfdiff.core.population_params(_problem())


def test_cli_spectrum_m(capsys):
    assert main(["spectrum", "--psi-p", "8", "--psi-n", "2", "--t", "0.1", "--m", "1",
                 "--points", "16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["parts"] == [] and out["structure_converged"] is None
    assert out["zero_atom_mass"] == 0.75 and out["parameters"]["noise_samples"] == 1
    assert out["all_converged"] and min(out["lambda"]) == 0.0
    for argv in (["--m", "0"], ["--m", "1.5"], ["--m", "2", "--compare-d", "10",
                                                "--compare-method", "exact"]):
        assert main(["spectrum", "--points", "16", "--json", *argv]) == 2
        assert "--m" in capsys.readouterr().err


def test_cli_curves_and_simulate_m(capsys):
    argv = ["--psi-p", "8", "--psi-n", "4", "--t", "0.1", "--ridge", "0.01", "--m", "1",
            "--points", "3", "--json"]
    assert main(["curves", *argv]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = rfdiff.asymptotic_curves(rfdiff.Problem(8, 4, 0.1, noise_samples=1, ridge=0.01),
                                   out["tau"])
    np.testing.assert_allclose(out["test_loss"], ref.test_loss, rtol=1e-12)
    assert out["parameters"]["noise_samples"] == 1 and all(out["converged"])
    assert main(["curves", "--m", "2", "--tau-max", "inf", "--points", "3", "--json"]) == 2
    assert "ridge > 0" in capsys.readouterr().err
    assert main(["simulate", "--d", "10", "--m", "2", "--points", "3", "--json"]) == 2
    assert "--method monte_carlo" in capsys.readouterr().err
    assert main(["simulate", "--d", "10", "--m", "2", "--method", "monte_carlo",
                 "--noise-draws", "3", "--points", "3", "--json"]) == 2
    assert "--noise-draws" in capsys.readouterr().err
    assert main(["simulate", "--d", "10", "--psi-p", "4", "--psi-n", "2", "--m", "2",
                 "--method", "monte_carlo", "--points", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["parameters"]["noise_draws"] == 2 and out["parameters"]["noise_samples"] == 2


# ----------------------------------------------------------------------------- slow

@pytest.mark.slow
@pytest.mark.parametrize("m", [1, 2, 4])
def test_gaussian_equivalent_rate(m):
    """W₁ to the Gaussian-equivalent U_m falls like 1/d (measured slopes −0.81…−1.02 at
    (8, 2), d = 50, 100, 200, two seeds; 0.9–1.1e-2 at d = 200); the m = ∞ limit stays
    ≥ 0.045 on the same matrices. Slope < −0.5 and a factor 3 between the two limits at
    d = 200."""
    pr, base = _problem(m), _problem()
    scale = _scale(pr)
    ds, w, w_inf = (50, 100, 200), [], []
    for d in ds:
        a, b = [], []
        for seed in (0, 1):
            inst = rfdiff.finite_size_instance(pr, d, seed=seed, method="gaussian_equivalent")
            ev = scipy.linalg.eigvalsh(np.asarray(inst.U))
            a.append(rfdiff.core.wasserstein1(pr, ev) / scale)
            b.append(rfdiff.core.wasserstein1(base, ev) / scale)
        w.append(np.mean(a))
        w_inf.append(np.mean(b))
    slope = np.polyfit(np.log(ds), np.log(w), 1)[0]
    assert slope < -0.5, (w, slope)
    assert w_inf[-1] > 3 * w[-1], (w, w_inf)


@pytest.mark.slow
@pytest.mark.parametrize("m", [2, 4])
def test_monte_carlo_rate(m):
    """The real U_m (m fixed draws) at d = 50, 100, ψ_p = 16, ψ_n = 4: W₁/mean measured
    2.4e-2 → 1.2–1.4e-2 (two seeds); it must fall by a factor 0.75 and be below 0.025."""
    pr = _problem(m, 16.0, 4.0)
    scale = _scale(pr)
    w = []
    for d in (50, 100):
        vals = []
        for seed in (0, 1):
            W, X, _ = draw(pr, d, seed)
            # the noise stream of finite_size_instance(method="monte_carlo")
            key = jax.random.fold_in(jax.random.PRNGKey(seed), 0x5EED)
            with jax.enable_x64(True):
                U, _ = _monte_carlo_train(pr, pr.activation, W / math.sqrt(d), X, key, m)
            vals.append(rfdiff.core.wasserstein1(pr, scipy.linalg.eigvalsh(np.asarray(U)))
                        / scale)
        w.append(np.mean(vals))
    assert w[1] < 0.75 * w[0] and w[1] < 0.025, w
