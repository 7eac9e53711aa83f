"""The (q, r, s) solver: properties on random parameters and exact special cases.

Tolerances:
- residual ≤ 1e-10 (relative, RESIDUAL_TOL) is the solver's own convergence criterion;
- closed-form comparisons (Marchenko–Pastur laws, the linear-activation equation) use
  1e-9 relative: the equations are solved to ~1e-14, the margin covers conditioning near
  edges and the quadrature of the reference formula;
- large-|z| expansion: q = −1/z − m₁/z² + O(m₂/z³), checked with the bound m₂ ≤ scale².
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rfdiff._model.problem import Problem
from rfdiff._theory.onepoint import residual as _residual
from rfdiff._theory.resolvent import (RESIDUAL_TOL, ResolventParams, as_params,
                               resolvent_core, resolvent_params, solve_on_grid,
                               solve_resolvent, spectral_density, spectral_scale)
from rfdiff._model.data_spectrum import DataSpectrum, two_atom
from rfdiff._spectrum.structure import spectral_structure


def random_params(seed: int) -> ResolventParams:
    """Random constants over wide ranges (1 to 3 data atoms)."""
    rng = np.random.default_rng(seed)

    def logu(lo, hi):
        return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))

    k = int(rng.integers(1, 4))
    weights = rng.uniform(0.1, 1.0, k)
    weights /= weights.sum()
    return ResolventParams(
        psi_p=np.float64(logu(0.5, 64)), psi_n=np.float64(logu(0.3, 32)),
        a2=np.float64(logu(1e-3, 2)), b2=np.float64(logu(1e-4, 1)),
        v2=np.float64(logu(1e-6, 0.5)), s2=np.float64(logu(1e-5, 0.5)),
        atoms=rng.uniform(0.2, 3.0, k), weights=weights)


def random_problem(seed: int) -> Problem:
    rng = np.random.default_rng(1000 + seed)
    k = int(rng.integers(1, 3))
    weights = rng.uniform(0.2, 1.0, k)
    weights = weights / weights.sum()
    weights[-1] = 1.0 - weights[:-1].sum()  # exact sum 1
    spec = DataSpectrum(tuple(rng.uniform(0.3, 2.5, k)), tuple(weights))
    return Problem(float(np.exp(rng.uniform(0, np.log(64)))),
                   float(np.exp(rng.uniform(np.log(0.5), np.log(16)))),
                   float(np.exp(rng.uniform(np.log(0.01), np.log(1.0)))),
                   ["tanh", "relu", "erf", "gelu"][int(rng.integers(4))], spec)


def grid_for(P):
    """λ grid across and around the spectrum, dense near s_t² where the small parts sit."""
    ub = spectral_scale(P)
    s2 = float(P.s2)
    return np.sort(np.concatenate([
        np.linspace(-0.1 * ub, 1.1 * ub, 160),
        s2 + np.geomspace(1e-8 * ub, ub, 96),
        [s2],
    ]))


@pytest.mark.parametrize("seed", range(16))
def test_herglotz_residual_and_convergence_on_random_parameters(seed):
    P = random_params(seed) if seed % 2 == 0 else random_problem(seed)
    lam = grid_for(as_params(P))
    res = solve_on_grid(P, lam)
    assert res.converged.all(), f"unconverged at λ = {lam[~res.converged][:5]}"
    assert np.max(res.residual) <= RESIDUAL_TOL
    # Herglotz: Im z > 0 ⇒ Im q > 0 and Im r, Im s ≥ 0 (Stieltjes transforms of
    # positive measures: W̃W̃ᵀ and W̃ΣW̃ᵀ are positive semi-definite)
    assert np.all(res.q.imag > 0)
    assert np.all(res.r.imag >= -1e-12 * np.abs(res.r))
    assert np.all(res.s.imag >= -1e-12 * np.abs(res.s))
    assert np.all(res.density >= 0)


@pytest.mark.parametrize("seed", range(8))
def test_large_z_asymptotics(seed):
    P = as_params(random_params(seed))
    scale = spectral_scale(P)
    m1 = float(P.s2 + P.b2 + P.v2 + P.a2 * np.sum(P.weights * P.atoms))
    radius = 1e3 * scale
    z = radius * np.exp(1j * np.array([0.1, 0.5, 1.5, 2.5, 3.0]))
    res = solve_resolvent(P, z)
    assert res.converged.all()
    # q = −1/z − m₁/z² + O(m₂/z³) with m₂ ≤ scale²
    err = np.abs(z * res.q + 1 + m1 / z)
    assert np.all(err <= 2 * scale**2 / radius**2)
    # s ~ −1/z (ν_s has mass 1) and r ~ −κ/z (ν_r has mass κ)
    kappa = float(np.sum(P.weights * P.atoms))
    assert np.all(np.abs(z * res.s + 1) <= 4 * scale / radius)
    assert np.all(np.abs(z * res.r + kappa) <= 4 * kappa * scale / radius)


@pytest.mark.parametrize("seed", range(6))
def test_conjugate_symmetry(seed):
    P = as_params(random_params(seed))
    scale = spectral_scale(P)
    z = scale * np.array([0.3 + 0.01j, 0.01 + 0.002j, 1.2 + 0.5j, -0.2 + 0.1j])
    up, down = solve_resolvent(P, z), solve_resolvent(P, z.conj())
    assert up.converged.all() and down.converged.all()
    np.testing.assert_allclose(down.q, up.q.conj(), rtol=1e-13)
    np.testing.assert_allclose(down.s, up.s.conj(), rtol=1e-13)
    # and the reflected values do solve the equations at z̄ (real coefficients)
    with jax.enable_x64(True):
        for k in range(z.size):
            x = jnp.array([down.q[k], down.r[k]])
            w = z[k].conjugate() - float(P.s2)
            F = np.asarray(_residual(x, w, P))
            assert np.all(np.abs(F) <= 1e-10 * (1 + np.abs(x[0]) ** 2 * abs(z[k])))


@pytest.mark.parametrize("seed", range(6))
def test_total_mass_by_contour_integral(seed):
    """−(1/π) Im ∫ q dz over an upper half-circle from below to above the spectrum is 1.

    The half-circle meets the real axis only in gaps (λ < s_t² ≤ spectrum, λ > scale),
    where q is analytic, so Gauss–Legendre converges exponentially; 200 nodes reach
    1e-9. This checks the branch over the whole upper half-plane, atoms included.
    """
    P = as_params(random_params(seed))
    scale = spectral_scale(P)
    a, b = -0.5 * scale, 1.5 * scale
    x, w = np.polynomial.legendre.leggauss(200)
    theta = 0.5 * np.pi * (x + 1)
    centre, radius = 0.5 * (a + b), 0.5 * (b - a)
    z = centre + radius * np.exp(1j * theta)
    res = solve_resolvent(P, z)
    assert res.converged.all()
    mass = -np.imag(np.sum(0.5 * np.pi * w * res.q * 1j * radius * np.exp(1j * theta))) / np.pi
    assert abs(mass - 1.0) < 1e-9


def mp_density(x, ratio):
    """Density per M of the non-zero part of (1/N) Y Yᵀ, Y of size M × N, ratio M/N."""
    lo, hi = (1 - np.sqrt(ratio)) ** 2, (1 + np.sqrt(ratio)) ** 2
    inside = (x > lo) & (x < hi)
    return np.where(inside, np.sqrt(np.clip((hi - x) * (x - lo), 0, None))
                    / (2 * np.pi * ratio * np.where(x == 0, 1, x)), 0.0)


def make_params(psi_p, psi_n, a2, b2, v2, s2):
    return ResolventParams(*(np.float64(v) for v in (psi_p, psi_n, a2, b2, v2, s2)),
                           np.array([1.0]), np.array([1.0]))


@pytest.mark.parametrize("psi_p,psi_n,v2,s2", [(4.0, 2.0, 0.3, 0.05), (1.5, 3.0, 0.2, 0.1),
                                               (16.0, 1.0, 1.0, 0.0)])
def test_pure_noise_is_shifted_marchenko_pastur(psi_p, psi_n, v2, s2):
    """a = b = 0: U = s² + v² ΩΩᵀ/n, Marchenko–Pastur of ratio ψ_p/ψ_n shifted by s²."""
    P = make_params(psi_p, psi_n, 0.0, 0.0, v2, s2)
    ratio = psi_p / psi_n
    lo, hi = s2 + v2 * (1 - np.sqrt(ratio)) ** 2, s2 + v2 * (1 + np.sqrt(ratio)) ** 2
    lam = np.linspace(lo, hi, 60)[1:-1]
    dens = spectral_density(P, lam, eps_rel=1e-14)[0]
    exact = mp_density((lam - s2) / v2, ratio) / v2
    assert np.max(np.abs(dens - exact)) <= 1e-9 * exact.max()
    st = spectral_structure(P)
    bulk = st.bulks
    assert len(bulk) == 1
    assert bulk[0].lo == pytest.approx(lo, rel=1e-10)
    assert bulk[0].hi == pytest.approx(hi, rel=1e-10)
    atom = max(0.0, 1 - psi_n / psi_p)
    atoms = [p.mass for p in st.atoms]
    assert sum(atoms) == pytest.approx(atom, abs=1e-10)


@pytest.mark.parametrize("psi_p,b2,s2", [(4.0, 0.3, 0.05), (0.5, 1.0, 0.1)])
def test_pure_features_is_marchenko_pastur(psi_p, b2, s2):
    """a = v = 0: U = s² + b² W̃W̃ᵀ, Marchenko–Pastur of ratio ψ_p, edges b²(1 ± √ψ_p)²."""
    P = make_params(psi_p, 2.0, 0.0, b2, 0.0, s2)
    lo, hi = s2 + b2 * (1 - np.sqrt(psi_p)) ** 2, s2 + b2 * (1 + np.sqrt(psi_p)) ** 2
    lam = np.linspace(lo, hi, 60)[1:-1]
    dens = spectral_density(P, lam, eps_rel=1e-14)[0]
    exact = mp_density((lam - s2) / b2, psi_p) / b2
    assert np.max(np.abs(dens - exact)) <= 1e-9 * exact.max()
    st = spectral_structure(P)
    assert st.bulks[0].lo == pytest.approx(lo, rel=1e-10)
    assert st.bulks[0].hi == pytest.approx(hi, rel=1e-10)
    assert sum(p.mass for p in st.atoms) == pytest.approx(max(0, 1 - 1 / psi_p), abs=1e-10)


def mp_average(f, ratio, nodes=400):
    """E f(x) over the Marchenko–Pastur law of (1/n) X Xᵀ (d×d, ratio d/n), atom included."""
    lo, hi = (1 - np.sqrt(ratio)) ** 2, (1 + np.sqrt(ratio)) ** 2
    x, w = np.polynomial.legendre.leggauss(nodes)
    theta = 0.5 * np.pi * (x + 1)
    lam = lo + 0.5 * (hi - lo) * (1 - np.cos(theta))
    weight = 0.5 * np.pi * w * 0.5 * (hi - lo) * np.sin(theta) * mp_density(lam, ratio)
    total = np.sum(weight[:, None] * f(lam[:, None]), axis=0)
    if ratio > 1:  # atom at 0 of mass 1 − 1/ratio
        total = total + (1 - 1 / ratio) * f(np.zeros((1, 1)))[0]
    return total


@pytest.mark.parametrize("psi_p,psi_n", [(16.0, 4.0), (4.0, 0.5), (2.0, 8.0)])
def test_linear_activation_solves_the_product_equation(psi_p, psi_n):
    """σ linear: v_t = s_t = 0 and U = W̃ M W̃ᵀ with M = a²e^{−2t} XXᵀ/n + b² I.

    The Stieltjes transform of W̃MW̃ᵀ (W̃ entries N(0, 1/d), ratio p/d = ψ_p) solves
    q = 1/(−z + E_M[τ/(1 + ψ_p τ q)]) (Marchenko–Pastur–Silverstein), with E_M over the
    spectrum of M, an affine image of the Marchenko–Pastur law of ratio 1/ψ_n.
    """
    pr = Problem(psi_p, psi_n, 0.3, "linear")
    c = pr.coefficients
    assert abs(float(c.v2)) < 1e-14 and abs(float(c.s2)) < 1e-14
    A = float(c.a) ** 2 * np.exp(-0.6)
    b2 = float(c.b) ** 2
    z = np.array([0.5 + 0.5j, 3.0 + 1.0j, 10.0 + 2.0j, 0.1 + 0.05j])
    res = solve_resolvent(pr, z)
    assert res.converged.all()
    q = res.q
    rhs = 1.0 / (-z + mp_average(lambda x: (A * x + b2) / (1 + psi_p * (A * x + b2) * q),
                                 1 / psi_n))
    np.testing.assert_allclose(q, rhs, rtol=1e-9)
    # rank of U is min(p, d): atom at 0 of mass 1 − 1/ψ_p
    st = spectral_structure(pr)
    assert st.atoms[0].mass == pytest.approx(1 - 1 / psi_p, abs=1e-9)


def test_results_are_float64_and_global_config_untouched():
    before = jax.config.jax_enable_x64
    res = solve_on_grid(Problem(4, 2, 0.1), np.linspace(0, 3, 7))
    assert jax.config.jax_enable_x64 == before
    assert isinstance(res.q, np.ndarray) and res.q.dtype == np.complex128
    assert res.density.dtype == np.float64
    assert res.z.dtype == np.complex128


def test_core_is_vmappable_over_parameter_sets():
    pa, pb = resolvent_params(Problem(8, 2, 0.1)), resolvent_params(Problem(16, 4, 0.3))
    lam = np.linspace(0.01, 5, 64)
    eps = np.full(64, 1e-8)
    with jax.enable_x64(True):
        batch = jax.tree_util.tree_map(lambda x, y: jnp.stack([x, y]), pa, pb)
        out = jax.jit(jax.vmap(resolvent_core, in_axes=(None, None, 0)))(
            jnp.asarray(lam), jnp.asarray(eps), batch)
        out = jax.tree_util.tree_map(np.asarray, out)
    for k, P in enumerate((pa, pb)):
        ref = solve_resolvent(P, lam + 1j * eps)
        np.testing.assert_allclose(out.q[k], ref.q, rtol=1e-12)
        assert out.converged[k].all()


def test_anisotropic_problem_converges():
    res = solve_on_grid(Problem(8, 2, 0.1, "tanh", two_atom()), np.linspace(-0.5, 8, 300))
    assert res.converged.all()


@pytest.mark.parametrize("bad", [
    dict(lam=[0.0, np.nan]), dict(lam=[]), dict(eps_rel=0.0), dict(eps_rel=-1.0)])
def test_solve_on_grid_rejects_bad_input(bad):
    kwargs = dict(lam=[0.1, 0.2], eps_rel=1e-10) | bad
    with pytest.raises(ValueError):
        solve_on_grid(Problem(4, 2, 0.1), kwargs["lam"], kwargs["eps_rel"])


def test_solve_resolvent_rejects_real_points():
    with pytest.raises(ValueError, match="Im z"):
        solve_resolvent(Problem(4, 2, 0.1), [1.0 + 0j])


def test_bad_params_are_rejected():
    with pytest.raises(ValueError, match="v2"):
        solve_on_grid(make_params(4, 2, 0.1, 0.1, -1.0, 0.1), [0.1])
    with pytest.raises(ValueError, match="problem"):
        solve_on_grid("tanh", [0.1])
