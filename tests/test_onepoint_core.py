"""One residual, two strategies: the adaptive and the fixed continuation of the one-point
equations agree wherever both apply.

Both strategies solve the same residual (rfdiff._theory.onepoint) along the same vertical
line from far above the spectrum, with different step controls: the adaptive one (behind
the spectrum, ε → 0⁺) and the fixed schedule (behind the learning curves, Talbot nodes).
At every point where both converge they must reach the same root: q, r, s agree to 1e-12
(relative) on random problems, at points close to the real axis inside and outside the
support, at Talbot-contour nodes and at generic complex points (both half-planes).
"""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rfdiff._model.data_spectrum import DataSpectrum, isotropic
from rfdiff._model.problem import Problem
from rfdiff._theory.curves import talbot_contour
from rfdiff._theory.onepoint import AdaptivePath, asymptotic_start, relative_residual
from rfdiff._theory.params import spectral_params
from rfdiff._theory.resolvent import solve_resolvent, spectral_scale
from rfdiff._theory.two_point import one_point_core

# the modules (the package's attributes of these names include functions)
onepoint = importlib.import_module("rfdiff._theory.onepoint")
resolvent = importlib.import_module("rfdiff._theory.resolvent")
two_point = importlib.import_module("rfdiff._theory.two_point")

POINTS = 64
_fixed_jit = jax.jit(one_point_core)


def random_problem(seed: int) -> Problem:
    """Random ψ_p, ψ_n, t, activation; isotropic or 2–3-atom data spectrum."""
    rng = np.random.default_rng(seed)
    k = (1, 2, 3)[seed // 2 % 3]   # seeds 0-1 isotropic, 2-3 two atoms, 4-5 three
    if k == 1:
        spec = isotropic()
    else:
        w = rng.uniform(0.2, 1.0, k)
        w = w / w.sum()
        w[-1] = 1.0 - w[:-1].sum()
        spec = DataSpectrum(tuple(rng.uniform(0.2, 3.0, k)), tuple(w))
    return Problem(float(np.exp(rng.uniform(np.log(0.5), np.log(64)))),
                   float(np.exp(rng.uniform(np.log(0.5), np.log(16)))),
                   float(np.exp(rng.uniform(np.log(0.01), np.log(1.0)))),
                   ("tanh", "relu", "erf")[seed % 3], spec)


def sample_points(problem: Problem) -> np.ndarray:
    """64 points: near the real axis (inside and outside the support), Talbot nodes of
    two times, generic points in both half-planes."""
    P = spectral_params(problem)
    ub, s2 = spectral_scale(P), float(P.s2)
    inside = s2 + ub * np.array([1e-3, 1e-2, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6])
    outside = np.array([s2 - 0.1 * ub, s2 - 1e-3 * ub, 1.02 * ub, 1.5 * ub])
    near = np.concatenate([lam + 1j * eta * ub for lam in (inside, outside)
                           for eta in (1e-3, 1e-6)])                        # 28 points
    zhat, _ = talbot_contour(24)
    rate = 2.0 * problem.delta / problem.psi_p
    talbot = np.concatenate([-zhat[:12] / (rate * tau) for tau in (0.3, 30.0)])  # 24
    generic = ub * np.array([0.3 + 0.2j, 0.3 - 0.2j, -0.5 + 0.5j, 0.05 + 0.01j,
                             1.2 + 0.5j, 0.7 - 0.05j, 2.0 + 3.0j, -0.2 - 0.1j,
                             0.01 + 1e-4j, 0.5 + 1e-2j, 1.0 + 1e-5j, 3.0 + 1e-2j])  # 12
    z = np.concatenate([near, talbot, generic])
    assert z.size == POINTS and np.all(z.imag != 0)
    return z


def fixed_strategy(problem, z):
    with jax.enable_x64(True):
        sol = _fixed_jit(spectral_params(problem), jnp.asarray(z))
        return jax.tree_util.tree_map(np.asarray, sol)


def rel(a, b):
    return np.abs(a - b) / np.abs(b)


@pytest.mark.parametrize("seed", range(6))
def test_strategies_agree(seed):
    problem = random_problem(seed)
    z = sample_points(problem)
    ada = solve_resolvent(problem, z)
    fix = fixed_strategy(problem, z)
    assert ada.converged.all(), f"adaptive unconverged at {z[~ada.converged]}"
    assert fix.converged.all(), f"fixed unconverged at {z[~fix.converged]}"
    for name in ("q", "r", "s"):
        err = rel(getattr(fix, name), getattr(ada, name))
        assert np.max(err) <= 1e-12, (
            f"{name}: largest relative difference {np.max(err):.2e} at z = {z[np.argmax(err)]}")
    # the near-axis points do reach into the support (density ≫ the Lorentzian tail)
    P = spectral_params(problem)
    assert np.sum(ada.q.imag[:20] > 1e-2 / spectral_scale(P)) >= 3


def test_strategies_share_one_residual(monkeypatch):
    # one function and one tolerance, imported by both strategies
    assert resolvent.relative_residual is onepoint.relative_residual
    assert two_point.relative_residual is onepoint.relative_residual
    assert resolvent.RESIDUAL_TOL is onepoint.RESIDUAL_TOL is two_point.RESIDUAL_TOL
    problem = random_problem(1)
    z = sample_points(problem)
    z = z[z.imag > 0]
    fix = fixed_strategy(problem, z)
    ada = solve_resolvent(problem, z)
    with jax.enable_x64(True):
        P = spectral_params(problem)
        w = jnp.asarray(z - float(P.s2))

        def rel_res(x):
            return np.asarray(jax.vmap(lambda xx, ww: relative_residual(xx, ww, P))(x, w))

        # each strategy's solution is a solution for the other's check
        assert np.max(rel_res(jnp.stack([jnp.asarray(fix.q), jnp.asarray(fix.r)], 1))) < 1e-14
        assert np.max(rel_res(jnp.stack([jnp.asarray(ada.q), jnp.asarray(ada.r)], 1))) < 1e-14
        # the same x for both reports: the large-|z| start, far from a solution near the
        # spectrum, so that the residual is large and any difference of definition shows
        x = jax.vmap(lambda ww: asymptotic_start(ww, P))(w)
        n = z.size
        adaptive_report = jax.vmap(lambda p: resolvent._finish(p, P))(
            AdaptivePath(x, w, jnp.ones(n, bool), jnp.zeros(n, int))).result.residual
        with monkeypatch.context() as m:
            m.setattr(two_point, "fixed", lambda ww, eps0, PP: asymptotic_start(ww, PP))
            fixed_report = one_point_core(P, jnp.asarray(z)).residual
        direct = rel_res(x)
    assert np.max(direct) > 1e-3
    np.testing.assert_allclose(np.asarray(adaptive_report), direct, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(fixed_report), direct, rtol=1e-13)
