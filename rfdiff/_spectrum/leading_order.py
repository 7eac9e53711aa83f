"""Leading-order (ψ_p ≫ ψ_n ≫ 1) description of the spectrum of U: edges and densities.

These closed forms are approximations of the exact asymptotic spectrum computed by
:mod:`rfdiff._theory` and :func:`rfdiff.spectral_structure`; they are kept separate so that
one can measure how far they are from the exact solution at given parameters. The
eigenvalue counts and masses of the parts (:func:`predicted_counts`,
:func:`predicted_masses`) live in :mod:`.counts` and are re-exported here.
"""

from __future__ import annotations

import math

import numpy as np

from .._common.x64 import float64
from .._model.problem import Problem
from .._theory import SpectralParams, as_params, require_noise_averaged, solve_on_grid
from .counts import ROLES, predicted_counts, predicted_masses
from .pipeline import spectral_structure

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


def _check_problem(problem) -> None:
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    require_noise_averaged(problem, "the leading-order spectral formulas")


def _finite_lam(lam) -> np.ndarray:
    lam = np.asarray(lam, dtype=float)
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"lam must be finite, got {lam!r}")
    return lam


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
def population_params(problem: Problem) -> SpectralParams:
    """Parameters of the population matrix Ũ ≃ a_t² W̃Σ_tW̃ᵀ + (s_t² + v_t²) I.

    This is the ψ_n → ∞ limit of the same equations (D = 1); pass the result to
    :func:`rfdiff.core.solve_on_grid` or :func:`rfdiff.spectral_structure`.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams` (its ψ_n is replaced).

    Returns:
        :class:`SpectralParams` (float64 arrays) with ψ_n = ∞ and the other fields
        unchanged.

    Raises:
        ValueError: if ``problem`` is neither a :class:`Problem` nor valid
            :class:`ResolventParams`, naming the argument and the value.
    """
    P = as_params(problem)
    # the population matrix averages the noise exactly, whatever the number of samples
    return P._replace(psi_n=np.asarray(np.inf), inv_m=None)


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
            :func:`rfdiff.core.solve_on_grid`) if ``lam`` is empty.
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
