"""The asymptotic spectrum against eigenvalues of finite-size matrices U.

- Counts: the Gaussian-equivalent U (THEORY.md §3) has exactly the predicted number of
  eigenvalues in each part when the gaps are wide compared with finite-size edge
  fluctuations, so eigenvalues are counted between the midpoints of the gaps.
- Wasserstein-1: W₁ between the theory and the empirical spectrum of the exact U
  (rfdiff._finite.instance, exact method) must shrink with d. It is fitted as W₁ ∝ d^slope over
  d = 20, 40, 80. Random-matrix fluctuations of a spectrum make W₁ = O(1/d) (slope −1);
  corrections to Gaussian equivalence are O(d^{-1/2}) at worst (slope −1/2). With one
  seed at three sizes the fitted slope scatters by about ±0.2 (observed −0.58 to −1.06 over
  tanh/relu × isotropic/anisotropic and three seeds), so the test asks for slope < −0.3:
  comfortably negative, while a W₁ that does not shrink (slope ≈ 0) fails.
"""

import numpy as np
import pytest

from rfdiff._finite.instance import finite_size_instance
from rfdiff._model.problem import Problem
from rfdiff._model.data_spectrum import isotropic, two_atom
from rfdiff._spectrum.structure import spectral_structure, wasserstein1


def eigenvalues(problem, d, seed=0, method="exact"):
    inst = finite_size_instance(problem, d, seed=seed, method=method)
    return np.linalg.eigvalsh(np.asarray(inst.U))


def count_between_gaps(structure, ev):
    """Eigenvalues per part, counted between midpoints of consecutive parts."""
    parts = [p for p in structure.parts if p.role != "outlier"]
    cuts = [-np.inf] + [0.5 * (a.hi + b.lo) for a, b in zip(parts[:-1], parts[1:])] + [np.inf]
    return [int(np.sum((ev > lo) & (ev <= hi))) for lo, hi in zip(cuts[:-1], cuts[1:])]


@pytest.mark.parametrize("args,d", [((64, 8, 0.01), 20), ((16, 0.5, 0.1), 60),
                                    ((4, 8, 0.1), 60), ((16, 4, 1.0), 40)])
def test_counts_match_gaussian_equivalent_matrices(args, d):
    problem = Problem(*args, "tanh")
    st = spectral_structure(problem, d=d)
    ev = eigenvalues(problem, d, method="gaussian_equivalent")
    assert count_between_gaps(st, ev) == [p.count for p in st.parts]
    assert sum(p.count for p in st.parts) == ev.size


def test_reference_intervals_against_gaussian_equivalent_matrix():
    """ψ_p = 64, ψ_n = 8, t = 0.01, d = 24: each part's eigenvalues lie near its interval
    (edge fluctuations at this size are a few % of the widths; 15 % of the width allowed)."""
    problem = Problem(64, 8, 0.01, "tanh")
    st = spectral_structure(problem, d=24)
    ev = eigenvalues(problem, 24, method="gaussian_equivalent")
    parts = st.parts
    cuts = [-np.inf] + [0.5 * (a.hi + b.lo) for a, b in zip(parts[:-1], parts[1:])] + [np.inf]
    for part, lo, hi in zip(parts, cuts[:-1], cuts[1:]):
        sel = ev[(ev > lo) & (ev <= hi)]
        width = max(part.hi - part.lo, 1e-12)
        assert abs(sel.min() - part.lo) < 0.15 * width + 1e-12, part.role
        assert abs(sel.max() - part.hi) < 0.15 * width + 1e-12, part.role


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("spectrum", [isotropic(), two_atom()], ids=["isotropic", "two_atom"])
def test_wasserstein_distance_shrinks_with_d(activation, spectrum):
    problem = Problem(8, 2, 0.1, activation, spectrum)
    st = spectral_structure(problem)
    sizes = np.array([20, 40, 80])
    w1 = np.array([wasserstein1(problem, eigenvalues(problem, int(d)), st) for d in sizes])
    slope = np.polyfit(np.log(sizes), np.log(w1), 1)[0]
    assert slope < -0.3, (w1, slope)
    assert w1[-1] < 0.03


def test_outlier_estimate_for_relu():
    """μ₀² p + (1/p) Tr U is first order: the exact top eigenvalue differs by O(1)
    (about 4 at ψ_p = 8, from the O(1/d) Hermite-2 and norm-fluctuation terms), i.e.
    ~3 % at d = 100 (p = 800)."""
    problem = Problem(8, 2, 0.1, "relu")
    st = spectral_structure(problem, d=100)
    ev = eigenvalues(problem, 100)
    assert ev[-1] == pytest.approx(st.part("outlier").lo, rel=0.05)
    # the rest of the spectrum is far below it
    assert ev[-2] < 0.1 * ev[-1]


@pytest.mark.slow
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("spectrum", [isotropic(), two_atom()], ids=["isotropic", "two_atom"])
def test_wasserstein_distance_shrinks_with_d_two_seeds_up_to_200(activation, spectrum):
    problem = Problem(8, 2, 0.1, activation, spectrum)
    st = spectral_structure(problem)
    sizes = np.array([25, 50, 100, 200])
    w1 = np.array([np.mean([wasserstein1(problem, eigenvalues(problem, int(d), seed), st)
                            for seed in (0, 1)]) for d in sizes])
    slope = np.polyfit(np.log(sizes), np.log(w1), 1)[0]
    assert slope < -0.4, (w1, slope)


@pytest.mark.slow
def test_reference_intervals_at_d_80_as_in_theory_notes():
    """THEORY.md §5 (Gaussian-equivalent U, d = 80): d-component [0.0037, 0.0099],
    ρ₁ [0.093, 0.357], ρ₂ [10.4, 43.1]; the asymptotic edges are within the finite-size
    edge fluctuations (10 % of each width)."""
    problem = Problem(64, 8, 0.01, "tanh")
    st = spectral_structure(problem, d=80)
    ev = eigenvalues(problem, 80, method="gaussian_equivalent")
    assert count_between_gaps(st, ev) == [p.count for p in st.parts]
    for role, (lo, hi) in [("d_component", (0.0037, 0.0099)),
                           ("memorisation", (0.093, 0.357)),
                           ("generalisation", (10.4, 43.1))]:
        part = st.part(role)
        width = part.hi - part.lo
        assert abs(part.lo - lo) < 0.1 * width and abs(part.hi - hi) < 0.1 * width, role
