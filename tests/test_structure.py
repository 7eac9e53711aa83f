"""Spectral parts: edges, masses, roles, counts, measures and the leading-order formulas.

Tolerances:
- masses: the adaptive quadrature meets 1e-10 per panel; totals are checked to 1e-8
  (a few panels, plus the O(ε) smoothing at the nodes);
- edges: fold Newton converges to ~1e-15; the independent check below probes the
  square-root law at 1e-6 relative distance (the required edge accuracy);
- reference intervals quoted in THEORY.md to 3–4 digits (from a grid/threshold method):
  0.5 % relative.
"""

import numpy as np
import pytest

from rfdiff._spectrum.leading_order import (generalisation_density, generalisation_edges,
                                   memorisation_density, memorisation_edges,
                                   population_params, predicted_counts, predicted_masses)
from rfdiff._model.problem import Problem
from rfdiff._theory.resolvent import solve_on_grid, solve_resolvent
from rfdiff._model.data_spectrum import DataSpectrum, two_atom
from rfdiff._spectrum.structure import (measure_quadrature, spectral_cdf, spectral_structure,
                               wasserstein1)

REFERENCE = Problem(64, 8, 0.01, "tanh")
MERGED = Problem(64, 32, 0.1, "tanh")


@pytest.fixture(scope="module")
def reference():
    return spectral_structure(REFERENCE, d=80)


def test_reference_parts(reference):
    st = reference
    assert st.converged, st.notes
    assert [p.role for p in st.parts] == ["s2_atom", "d_component", "memorisation",
                                          "generalisation"]
    gen, mem, low = st.part("generalisation"), st.part("memorisation"), st.part("d_component")
    # reference values (asymptotic solver): ρ₂ ≈ [9.84, 44.66], ρ₁ ≈ [0.0915, 0.359]
    assert gen.lo == pytest.approx(9.84, rel=5e-3) and gen.hi == pytest.approx(44.66, rel=5e-3)
    assert mem.lo == pytest.approx(0.0915, rel=5e-3) and mem.hi == pytest.approx(0.359, rel=5e-3)
    # the d-component sits just above the atom, below ρ₁ (finite size d=80: [0.0037, 0.0099])
    s2 = float(REFERENCE.coefficients.s2)
    assert s2 < low.lo < 0.0040 < 0.0095 < low.hi < mem.lo
    # masses and counts at d = 80 (p = 5120, n = 640)
    assert st.part("s2_atom").mass == pytest.approx(1 - 9 / 64, abs=1e-12)
    for part, mass, count in [(low, 1 / 64, 80), (mem, 7 / 64, 560), (gen, 1 / 64, 80)]:
        assert part.mass == pytest.approx(mass, abs=1e-9)
        assert part.count == count
    assert st.part("s2_atom").count == 4400
    assert st.total_mass == pytest.approx(1.0, abs=1e-8)


def test_merged_parts_are_reported():
    st = spectral_structure(MERGED, d=100)
    assert st.converged, st.notes
    assert [p.role for p in st.parts] == ["s2_atom", "d_component+memorisation",
                                          "generalisation"]
    assert st.merged
    merged = st.part("memorisation")
    assert merged is st.part("d_component")
    assert merged.mass == pytest.approx(32 / 64, abs=1e-9)
    assert merged.count == 100 + 3100
    assert any("merged" in n for n in st.notes)


def test_touching_parts_separated_by_a_tiny_gap():
    """ψ_p = 16, ψ_n = 4, t = 0.1: the d-component and ρ₁ are separated by a gap of
    ~6e-6 (found by zooming into the density minimum, both edges confirmed as folds)."""
    st = spectral_structure(Problem(16, 4, 0.1), d=100)
    assert st.converged, st.notes
    low, mem = st.part("d_component"), st.part("memorisation")
    assert low is not mem
    assert 0 < mem.lo - low.hi < 1e-4
    assert low.mass == pytest.approx(1 / 16, abs=1e-9)


def _edges_checked(problem, st):
    """Each edge: density vanishes on one side and grows like √δ on the other."""
    for part in st.bulks:
        for edge, sign in ((part.lo, 1.0), (part.hi, -1.0)):
            delta = 1e-6 * max(abs(edge), 1e-12)
            lam = edge + sign * delta * np.array([1.0, 4.0, -1.0])
            dens = solve_on_grid(problem, lam, eps_rel=1e-15).density
            inside1, inside4, outside = dens
            # √ law: ρ(4δ)/ρ(δ) = 2 (to O(√δ) and the ε-smoothing), and 0 outside
            assert inside1 > 0
            assert inside4 / inside1 == pytest.approx(2.0, rel=0.05), (part.role, edge)
            assert outside < 1e-3 * inside1, (part.role, edge)


@pytest.mark.parametrize("problem", [REFERENCE, MERGED, Problem(8, 2, 0.1, "relu", two_atom()),
                                     Problem(16, 0.5, 0.1, "erf")])
def test_edges_are_square_root_edges_at_relative_accuracy_1e_6(problem):
    st = spectral_structure(problem)
    assert st.converged, st.notes
    _edges_checked(problem, st)


def random_problem(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 4))
    weights = rng.uniform(0.1, 1.0, k)
    weights = weights / weights.sum()
    weights[-1] = 1.0 - weights[:-1].sum()
    spec = DataSpectrum(tuple(rng.uniform(0.2, 3.0, k)), tuple(weights))
    return Problem(float(np.exp(rng.uniform(np.log(0.5), np.log(64)))),
                   float(np.exp(rng.uniform(np.log(0.3), np.log(32)))),
                   float(np.exp(rng.uniform(np.log(0.01), np.log(2.0)))),
                   ["tanh", "relu", "erf", "gelu"][int(rng.integers(4))], spec)


@pytest.mark.parametrize("seed", range(14))
def test_masses_match_predicted_counts_on_random_problems(seed):
    problem = random_problem(seed)
    st = spectral_structure(problem, d=50)
    assert st.converged, st.notes
    assert st.total_mass == pytest.approx(1.0, abs=1e-8)
    predicted = predicted_masses(problem)
    p, _ = problem.sizes(50)
    assert all(part.role != "unidentified" for part in st.parts), st.notes
    for part in st.parts:
        if part.role == "outlier":
            continue
        if part.predicted_mass is not None:
            assert part.mass == pytest.approx(part.predicted_mass, abs=1e-8), part
    # every predicted role with positive mass appears somewhere
    roles = "+".join(part.role for part in st.parts)
    for role, mass in predicted.items():
        if mass > 1e-12:
            assert role in roles, (role, roles)
    counts = predicted_counts(problem, 50)
    assert sum(counts.values()) == p


def test_atom_mass_formula():
    for psi_p, psi_n in [(64, 8), (10, 3), (4, 2.5)]:
        st = spectral_structure(Problem(psi_p, psi_n, 0.1))
        assert st.part("s2_atom").mass == pytest.approx(1 - (1 + psi_n) / psi_p, abs=1e-10)
    st = spectral_structure(Problem(3, 2.5, 0.1))  # ψ_p < ψ_n + 1: no atom
    assert st.part("s2_atom") is None


@pytest.mark.parametrize("problem", [REFERENCE, MERGED, Problem(8, 2, 0.1, "relu", two_atom())])
def test_measures_are_normalised_and_reproduce_the_transforms(problem):
    st = spectral_structure(problem)
    z = np.array([-0.5 + 0.01j, 0.5 + 0.3j, 3.0 + 2.0j, 20.0 + 5.0j])
    res = solve_resolvent(problem, z)
    kappa = problem.spectrum.kappa
    for which, ref in (("q", res.q), ("s", res.s), ("r", res.r / kappa)):
        mq = measure_quadrature(problem, which, structure=st)
        assert mq.converged
        assert mq.total == pytest.approx(1.0, abs=1e-8)
        approx = np.array([mq.integrate(lambda lam, zz=zz: 1.0 / (lam - zz)) for zz in z])
        # Stieltjes transforms of the quadrature measure: 1e-7 relative (64 nodes/panel)
        np.testing.assert_allclose(approx, ref, rtol=1e-7)
    # s and r stay finite at s_t²: ν_s and ν_r have no atom there
    assert measure_quadrature(problem, "s", structure=st).atom_masses.size == 0
    assert measure_quadrature(problem, "r", structure=st).atom_masses.size == 0


def test_train_loss_at_infinite_time_from_nu_s():
    """∫ dν_s/λ = s(0): the τ → ∞ limit of the train-loss formula of THEORY.md §4."""
    problem = Problem(16, 4, 0.1)
    mq = measure_quadrature(problem, "s")
    s0 = solve_on_grid(problem, [0.0], eps_rel=1e-14).s[0]
    assert mq.integrate(lambda lam: 1.0 / lam) == pytest.approx(s0.real, rel=1e-8)


def test_predicted_counts_by_regime():
    assert predicted_counts(Problem(64, 8, 0.1), 100) == {
        "s2_atom": 5500, "d_component": 100, "memorisation": 700, "feature_only": 0,
        "generalisation": 100}
    # ψ_n < 1: the d − n feature directions that no data point reaches
    assert predicted_counts(Problem(16, 0.5, 0.1), 60) == {
        "s2_atom": 870, "d_component": 30, "memorisation": 0, "feature_only": 30,
        "generalisation": 30}
    # p < n: no atom, no d-component
    assert predicted_counts(Problem(4, 8, 0.1), 60) == {
        "s2_atom": 0, "d_component": 0, "memorisation": 180, "feature_only": 0,
        "generalisation": 60}
    # linear activation: U = W̃MW̃ᵀ has rank d
    assert predicted_counts(Problem(16, 4, 0.1, "linear"), 10) == {
        "s2_atom": 150, "d_component": 0, "memorisation": 0, "feature_only": 0,
        "generalisation": 10}
    masses = predicted_masses(Problem(64, 8, 0.1))
    assert sum(masses.values()) == pytest.approx(1.0, abs=1e-15)


def test_leading_order_approaches_the_exact_edges():
    """ψ_p ≫ ψ_n ≫ 1: the shifted Marchenko–Pastur ρ₁ and population ρ₂ become exact.

    Relative edge errors must decrease along ψ_n = 4, 16, 64 with ψ_p = 64 ψ_n.
    """
    errors = []
    for psi_n in (4.0, 16.0, 64.0):
        problem = Problem(64 * psi_n, psi_n, 0.05)
        st = spectral_structure(problem)
        mem, gen = st.part("memorisation"), st.part("generalisation")
        lo1, hi1 = memorisation_edges(problem)
        lo2, hi2 = generalisation_edges(problem)
        errors.append(max(abs(mem.lo / lo1 - 1), abs(mem.hi / hi1 - 1),
                          abs(gen.lo / lo2 - 1), abs(gen.hi / hi2 - 1)))
    assert errors[0] > errors[1] > errors[2]


def test_population_bulk_closed_form_matches_the_population_equations():
    problem = Problem(16, 4, 0.2, "erf")
    pop = spectral_structure(population_params(problem))
    lo, hi = generalisation_edges(problem)
    assert pop.bulks[0].lo == pytest.approx(lo, rel=1e-10)
    assert pop.bulks[0].hi == pytest.approx(hi, rel=1e-10)
    lam = np.linspace(lo, hi, 40)[1:-1]
    np.testing.assert_allclose(generalisation_density(problem, lam),
                               solve_on_grid(population_params(problem), lam,
                                             eps_rel=1e-14).density, rtol=1e-8)
    # anisotropic data: edges come from the population equations
    lo_a, hi_a = generalisation_edges(Problem(16, 4, 0.2, "erf", two_atom()))
    assert lo_a < hi_a


def test_leading_order_memorisation_density_has_the_predicted_mass():
    problem = Problem(256, 16, 0.05)
    lo, hi = memorisation_edges(problem)
    x, w = np.polynomial.legendre.leggauss(200)
    theta = 0.5 * np.pi * (x + 1)
    lam = lo + 0.5 * (hi - lo) * (1 - np.cos(theta))
    mass = np.sum(0.5 * np.pi * w * 0.5 * (hi - lo) * np.sin(theta)
                  * memorisation_density(problem, lam))
    assert mass == pytest.approx(15 / 256, rel=1e-8)


def test_outlier_for_non_odd_activation():
    problem = Problem(8, 2, 0.1, "relu")
    st = spectral_structure(problem, d=100)
    out = st.part("outlier")
    mu0 = float(problem.coefficients.mu0)
    assert out is not None and out.mass == 0.0 and out.count == 1
    assert out.lo == pytest.approx(mu0**2 * 800, rel=0.01)
    assert spectral_structure(problem).part("outlier") is None  # needs d


def test_cdf_and_wasserstein_of_the_theory_itself(reference):
    cdf = spectral_cdf(REFERENCE, [0.0, 0.002, 0.05, 1.0, 50.0], structure=reference)
    assert np.all(np.diff(cdf) >= 0)
    assert cdf[0] == 0.0
    assert cdf[1] == pytest.approx(1 - 9 / 64, abs=1e-9)     # the atom
    assert cdf[2] == pytest.approx(1 - 8 / 64, abs=1e-6)     # + d-component
    assert cdf[-1] == pytest.approx(1.0, abs=1e-8)
    # quantiles of the theory itself are at W₁ distance ~ (spread)/p from it
    u = (np.arange(4000) + 0.5) / 4000
    grid = np.linspace(0, 45, 200001)
    quantiles = np.interp(u, spectral_cdf(REFERENCE, grid, structure=reference), grid)
    assert wasserstein1(REFERENCE, quantiles, structure=reference) < 0.02


@pytest.mark.parametrize("kwargs", [dict(scan_points=10), dict(nodes_per_panel=2),
                                    dict(tol=0.0), dict(d=0)])
def test_structure_rejects_bad_options(kwargs):
    with pytest.raises(ValueError):
        spectral_structure(Problem(4, 2, 0.1), **kwargs)


def test_structure_needs_a_problem_for_d():
    with pytest.raises(ValueError, match="d needs"):
        spectral_structure(population_params(Problem(4, 2, 0.1)), d=10)


def test_measure_quadrature_rejects_unknown_measure():
    with pytest.raises(ValueError, match="which"):
        measure_quadrature(Problem(4, 2, 0.1), "x")
