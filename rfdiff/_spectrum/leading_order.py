"""Leading-order (ψ_p ≫ ψ_n ≫ 1) description of the spectrum of U, and eigenvalue counts.

These closed forms are approximations of the exact asymptotic spectrum computed by
:mod:`rfdiff._resolvent` / :mod:`rfdiff._structure`; they are kept separate so that one
can measure how far they are from the exact solution at given parameters.

Eigenvalue counts, from ranks of the Gaussian-equivalent U. U − s_t² I = (1/n) G Gᵀ +
b_t² W̃W̃ᵀ lives on span(W̃, Ω), of dimension min(p, n + d); G (p×n) has rank min(p, n)
when v_t > 0. Filling the p dimensions from the strongest directions down:

- generalisation ρ₂: the data directions that carry the signal, min(d, n, p);
- memorisation ρ₁: the remaining data directions (noise only), min(p, n) − ρ₂;
- feature-only: directions of W̃ orthogonal to the data (only when n < d),
  min(d − n, p − ρ₂ − ρ₁) when n < d, else 0;
- d-component: directions of span(W̃, Ω) orthogonal to span(G) (eigenvalues from the
  compressed b_t² W̃W̃ᵀ, just above s_t²), min(min(n, d), what is left);
- atom at s_t²: the rest, p − n − d when p > n + d.

For ψ_p > ψ_n + 1 and ψ_n > 1 this gives atom p − n − d, d-component d, ρ₁ n − d, ρ₂ d.
For the linear activation (v_t = 0) there is no Ω term: ρ₂ = min(n, d, p), feature-only
min(p, d) − ρ₂, no ρ₁ and no d-component, atom p − min(p, d).

The atom count is exact for the Gaussian-equivalent U (p − n − d eigenvalues equal to
s_t²). The others are checked against the masses of the asymptotic parts (equal to
1e-8 on random parameters, tests/test_structure.py) and against finite-size matrices where
the parts are separated (tests/test_spectrum_finite_size.py, including ψ_n < 1 and
ψ_p < ψ_n). Parts can merge (their counts add) or split: with well-separated data
eigenvalues the d-component and ρ₂ break into one piece per atom of ρ_Σ, of mass
proportional to its weight, and such a piece can join ρ₁ (see rfdiff._structure).
"""

from __future__ import annotations

import math

import numpy as np

from .._model.problem import Problem
from .._theory.resolvent import ResolventParams, as_params, solve_on_grid
from .._common.validation import positive_int
from .._common.x64 import float64

__all__ = [
    "ROLES",
    "predicted_counts",
    "predicted_masses",
    "memorisation_edges",
    "memorisation_density",
    "generalisation_edges",
    "generalisation_density",
    "population_params",
]

#: Spectral roles, in the order in which they normally appear along λ.
ROLES = ("s2_atom", "d_component", "memorisation", "feature_only", "generalisation")


def _fill(p: float, n: float, d: float, noisy: bool) -> dict[str, float]:
    """Dimensions of each part (counts, or counts per d when given ψ_p, ψ_n, 1)."""
    if not noisy:
        gen = min(n, d, p)
        feat = min(p, d) - gen
        return {"s2_atom": p - min(p, d), "d_component": 0.0, "memorisation": 0.0,
                "feature_only": feat, "generalisation": gen}
    gen = min(d, n, p)
    mem = min(p, n) - gen
    left = p - gen - mem
    feat = min(max(d - n, 0.0), left)
    left -= feat
    low = min(min(n, d), left)
    return {"s2_atom": left - low, "d_component": low, "memorisation": mem,
            "feature_only": feat, "generalisation": gen}


def _noisy(v2, s2, a2, b2) -> bool:
    # v_t² of the linear activation is 0 up to quadrature round-off
    return v2 > 1e-12 * (v2 + s2 + a2 + b2)


def _check_problem(problem) -> None:
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")


def _finite_lam(lam) -> np.ndarray:
    lam = np.asarray(lam, dtype=float)
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"lam must be finite, got {lam!r}")
    return lam


def _psis(problem):
    P = as_params(problem)
    return float(P.psi_p), float(P.psi_n), _noisy(float(P.v2), float(P.s2), float(P.a2),
                                                  float(P.b2))


@float64
def predicted_masses(problem) -> dict[str, float]:
    """Asymptotic mass (fraction of the p eigenvalues) of each spectral part.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams` (ψ_n = ∞, the population
            limit, is allowed).

    Returns:
        ``{role: mass}`` (floats) for the roles in :data:`ROLES`; masses sum to 1. For
        ψ_p > ψ_n + 1 > 2: atom 1 − (1 + ψ_n)/ψ_p, d-component 1/ψ_p,
        memorisation (ψ_n − 1)/ψ_p, generalisation 1/ψ_p.

    Raises:
        ValueError: if ``problem`` is neither a :class:`Problem` nor valid
            :class:`ResolventParams` (non-finite or non-positive ψ, negative constants,
            bad atoms or weights), naming the argument and the value.
    """
    psi_p, psi_n, noisy = _psis(problem)
    if math.isinf(psi_n):  # population limit: a² W̃Σ_tW̃ᵀ + (s² + v²) I
        return {"s2_atom": max(0.0, 1 - 1 / psi_p), "d_component": 0.0, "memorisation": 0.0,
                "feature_only": 0.0, "generalisation": min(1.0, 1 / psi_p)}
    return {k: v / psi_p for k, v in _fill(psi_p, psi_n, 1.0, noisy).items()}


@float64
def predicted_counts(problem: Problem, d: int) -> dict[str, int]:
    """Number of eigenvalues of each spectral part at dimension d.

    Args:
        problem: a :class:`Problem`; p and n are ``problem.sizes(d)``.
        d: input dimension.

    Returns:
        ``{role: count}`` for the roles in :data:`ROLES`; counts sum to p.

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem` or d is not a positive integer.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    d = positive_int("d", d)
    p, n = problem.sizes(d)
    _, _, noisy = _psis(problem)
    return {k: int(round(v)) for k, v in _fill(p, n, d, noisy).items()}


@float64
def memorisation_edges(problem: Problem) -> tuple[float, float]:
    """Leading-order edges of ρ₁: s_t² + v_t²(1 ∓ √(ψ_p/ψ_n))² (shifted Marchenko–Pastur).

    Args:
        problem: a :class:`Problem`.

    Returns:
        ``(lo, hi)``, two floats with lo ≤ hi.

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem`, naming the value.
    """
    _check_problem(problem)
    c = problem.coefficients
    root = math.sqrt(problem.psi_p / problem.psi_n)
    return (float(c.s2) + float(c.v2) * (1 - root) ** 2,
            float(c.s2) + float(c.v2) * (1 + root) ** 2)


def _mp_shape(x, lo, hi, norm):
    inside = (x > lo) & (x < hi)
    val = np.sqrt(np.clip((hi - x) * (x - lo), 0.0, None)) / (2 * np.pi * norm * np.where(
        x == 0, 1.0, x))
    return np.where(inside, val, 0.0)


@float64
def memorisation_density(problem: Problem, lam) -> np.ndarray:
    """Leading-order density of ρ₁ per p: the shifted Marchenko–Pastur law.

    ρ₁ is the law of s_t² + v_t² (1/n) ΩΩᵀ restricted to its non-zero part (ratio
    c = ψ_p/ψ_n), rescaled to the predicted memorisation mass (ψ_n − 1)/ψ_p (the
    Marchenko–Pastur part alone has mass ψ_n/ψ_p; the two agree when ψ_n ≫ 1).

    Args:
        problem: a :class:`Problem`.
        lam: real λ values (scalar or array of any shape), finite.

    Returns:
        The density per p at ``lam``, a float64 numpy array of the shape of ``lam``, zero
        outside the support.

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem` or ``lam`` is not finite,
            naming the argument and the value.
    """
    _check_problem(problem)
    lam = _finite_lam(lam)
    c = problem.coefficients
    s2, v2 = float(c.s2), float(c.v2)
    ratio = problem.psi_p / problem.psi_n
    x = (lam - s2) / v2
    lo, hi = (1 - math.sqrt(ratio)) ** 2, (1 + math.sqrt(ratio)) ** 2
    shape = _mp_shape(x, lo, hi, ratio) / v2  # mass min(1, 1/ratio) = ψ_n/ψ_p
    mass = predicted_masses(problem)["memorisation"]
    return shape * mass / min(1.0, 1 / ratio)


def _population_scale(problem: Problem) -> float:
    """a_t² σ_t for isotropic data Σ = σ I (σ_t = e^{−2t} σ + Δ_t)."""
    c = problem.coefficients
    sigma = problem.spectrum.kappa
    return float(c.a) ** 2 * (math.exp(-2 * problem.t) * sigma + problem.delta)


@float64
def population_params(problem: Problem) -> ResolventParams:
    """Parameters of the population matrix Ũ ≃ a_t² W̃Σ_tW̃ᵀ + (s_t² + v_t²) I.

    This is the ψ_n → ∞ limit of the same equations (D = 1); pass the result to
    :func:`rfdiff.solve_on_grid` or :func:`rfdiff.spectral_structure`.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams` (its ψ_n is replaced).

    Returns:
        :class:`ResolventParams` (float64 arrays) with ψ_n = ∞ and the other fields
        unchanged.

    Raises:
        ValueError: if ``problem`` is neither a :class:`Problem` nor valid
            :class:`ResolventParams`, naming the argument and the value.
    """
    P = as_params(problem)
    return P._replace(psi_n=np.asarray(np.inf))


@float64
def generalisation_edges(problem: Problem) -> tuple[float, float]:
    """Leading-order edges of ρ₂ (the spectrum of the population matrix).

    Isotropic data: s_t² + v_t² + a_t²σ_t(√ψ_p ± 1)². Otherwise the edges of the bulk of
    the population equations, found by :func:`rfdiff.spectral_structure`.

    Args:
        problem: a :class:`Problem`.

    Returns:
        ``(lo, hi)``, two floats with lo ≤ hi (the lowest and highest bulk edges).

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem`, naming the value, or, for
            non-isotropic data, if the population spectrum has no bulk (a_t = 0).
    """
    _check_problem(problem)
    c = problem.coefficients
    base = float(c.s2) + float(c.v2)
    if problem.spectrum.is_isotropic:
        scale = _population_scale(problem)
        root = math.sqrt(problem.psi_p)
        return base + scale * (root - 1) ** 2, base + scale * (root + 1) ** 2
    from .structure import spectral_structure

    bulks = [p for p in spectral_structure(population_params(problem)).parts
             if p.kind == "bulk"]
    if not bulks:
        raise ValueError("the population spectrum has no bulk (a_t = 0), so ρ₂ has no "
                         f"edges, for problem {problem!r}")
    return min(b.lo for b in bulks), max(b.hi for b in bulks)


@float64
def generalisation_density(problem: Problem, lam) -> np.ndarray:
    """Leading-order density of ρ₂ per p: the spectrum of the population matrix.

    Isotropic data: the Marchenko–Pastur law of a_t²σ_t W̃W̃ᵀ (ratio ψ_p) shifted by
    s_t² + v_t², mass 1/ψ_p. Otherwise the density of the population equations.

    Args:
        problem: a :class:`Problem`.
        lam: real λ values (scalar or array of any shape), finite; non-empty for
            non-isotropic data.

    Returns:
        The density per p at ``lam``, a float64 numpy array of the shape of ``lam``.

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem` or ``lam`` is not finite,
            naming the argument and the value, or (non-isotropic data, as
            :func:`rfdiff.solve_on_grid`) if ``lam`` is empty.
    """
    _check_problem(problem)
    lam = _finite_lam(lam)
    if not problem.spectrum.is_isotropic:
        return solve_on_grid(population_params(problem), lam).density
    c = problem.coefficients
    scale = _population_scale(problem)
    x = (lam - float(c.s2) - float(c.v2)) / scale
    root = math.sqrt(problem.psi_p)
    return _mp_shape(x, (root - 1) ** 2, (root + 1) ** 2, problem.psi_p) / scale
