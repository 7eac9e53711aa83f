"""Distribution functions of the asymptotic spectrum: the CDF and the Wasserstein-1 distance."""

from __future__ import annotations

import numpy as np

from .._common.x64 import float64
from .._model.problem import Problem
from .._theory import as_params, solve_offsets
from .axis import _densities, _node_eps
from .pipeline import spectral_structure
from .records import SpectralStructure

__all__ = ["spectral_cdf", "wasserstein1"]

_CDF_POINTS = 2049


@float64
def spectral_cdf(problem, lam, structure: SpectralStructure | None = None) -> np.ndarray:
    """Cumulative eigenvalue distribution F(λ) = fraction of the p eigenvalues ≤ λ.

    Atoms jump by their mass (the μ₀ outlier, of mass 0, is ignored). Within each bulk the
    density is integrated in θ, λ = lo + (hi − lo)(1 − cos θ)/2, on 2049 points with the
    trapezoidal rule, rescaled to the bulk's mass (error ~1e-7 of the mass).

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        lam: real λ values (scalar or array of any shape); ±∞ allowed, NaN not.
        structure: the :class:`SpectralStructure` of this problem (else computed here
            with :func:`spectral_structure`); it is not checked against ``problem``.

    Returns:
        F(λ), a float64 numpy array of the shape of ``lam``, non-decreasing in λ, from 0
        below the spectrum to the total mass (1 up to quadrature error) above it.

    Raises:
        ValueError: if ``problem`` is neither a :class:`Problem` nor valid
            :class:`ResolventParams`, ``structure`` is not a :class:`SpectralStructure`
            or ``lam`` contains NaN, naming the argument and the value.
    """
    P = as_params(problem)
    if structure is not None and not isinstance(structure, SpectralStructure):
        raise ValueError(f"structure must be a rfdiff.SpectralStructure, got {structure!r}")
    lam = np.asarray(lam, dtype=float)
    if np.any(np.isnan(lam)):
        raise ValueError(f"lam must not contain NaN, got {lam!r}")
    if structure is None:
        structure = spectral_structure(problem)
    out = np.zeros(lam.shape)
    for grid, cum in _bulk_cdfs(P, structure):
        out += np.interp(lam, grid, cum, left=0.0, right=cum[-1])
    for p in structure.atoms:
        if p.role != "outlier":
            out += np.where(lam >= p.lo, p.mass, 0.0)
    return out


def _bulk_cdfs(P, structure):
    """Per bulk: (λ grid, cumulative mass) on a θ-uniform grid."""
    theta = np.linspace(0.0, np.pi, _CDF_POINTS)
    bulks = structure.bulks
    if not bulks:
        return []
    s2 = float(P.s2)
    lams = [(b.lo - s2) + 0.5 * (b.hi - b.lo) * (1 - np.cos(theta)) for b in bulks]
    eps = np.repeat(_node_eps(P, [(b.lo, b.hi) for b in bulks]), _CDF_POINTS)
    sol = solve_offsets(np.concatenate(lams), eps, P)
    atom = [p for p in structure.atoms if p.role != "outlier"]
    a_loc, a_mass = (atom[0].lo - s2, atom[0].mass) if atom else (0.0, 0.0)
    dens = _densities(sol, np.concatenate(lams), eps, a_loc, a_mass)[0]
    out = []
    for k, b in enumerate(bulks):
        rho = dens[k * _CDF_POINTS:(k + 1) * _CDF_POINTS]
        g = rho * 0.5 * (b.hi - b.lo) * np.sin(theta)
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(theta))])
        cum *= b.mass / cum[-1] if cum[-1] > 0 else 0.0
        out.append((s2 + lams[k], cum))
    return out


@float64
def wasserstein1(problem, eigenvalues, structure: SpectralStructure | None = None) -> float:
    """Wasserstein-1 distance between the asymptotic and an empirical spectrum of U.

    W₁ = ∫ ``|F(λ) − F_emp(λ)|`` dλ with F from :func:`spectral_cdf` and F_emp the empirical
    distribution of ``eigenvalues``. For non-odd σ (μ₀ ≠ 0, known from a :class:`Problem`)
    the largest eigenvalue, the μ₀ outlier, is left out: it has mass 0 per p but sits at
    ~μ₀² p, so it would add ~μ₀² to W₁ at every d.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        eigenvalues: eigenvalues of a finite-size U (1-D).
        structure: the structure of this problem (else computed here, without d).

    Returns:
        W₁ (a float).

    Raises:
        ValueError: for an empty or non-finite ``eigenvalues``.
    """
    ev = np.sort(np.asarray(eigenvalues, dtype=float).ravel())
    if ev.size == 0 or not np.all(np.isfinite(ev)):
        raise ValueError(f"eigenvalues must be a non-empty finite array, got {eigenvalues!r}")
    if structure is None:
        structure = spectral_structure(problem)
    if isinstance(problem, Problem) and abs(float(problem.coefficients.mu0)) > 1e-8:
        ev = ev[:-1]
    P = as_params(problem)
    cdfs = _bulk_cdfs(P, structure)
    lo = min([ev[0]] + [p.lo for p in structure.parts if p.role != "outlier"])
    hi = max([ev[-1]] + [p.hi for p in structure.parts if p.role != "outlier"])
    pts = [ev, np.linspace(lo, hi, 20001)] + [g for g, _ in cdfs]
    x = np.unique(np.concatenate(pts))
    f_th = np.zeros(x.shape)
    for grid, cum in cdfs:
        f_th += np.interp(x, grid, cum, left=0.0, right=cum[-1])
    for p in structure.atoms:
        if p.role != "outlier":
            f_th += np.where(x >= p.lo, p.mass, 0.0)
    f_emp = np.searchsorted(ev, x, side="right") / ev.size
    # F_emp is constant on each [x_i, x_{i+1}) (eigenvalues are grid points); F is
    # continuous between atoms: trapezoid of |F − F_emp(x_i)|
    diff_l = np.abs(f_th[:-1] - f_emp[:-1])
    diff_r = np.abs(f_th[1:] - f_emp[:-1])
    return float(np.sum(0.5 * (diff_l + diff_r) * np.diff(x)))
