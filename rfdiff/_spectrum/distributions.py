"""Distribution functions of the asymptotic spectrum: the CDF and the Wasserstein-1 distance.

For m = ∞ they integrate the bulks of :func:`spectral_structure`. With finitely many noise
samples (``noise_samples`` = m) the structure is not derived, and the CDF is integrated on
a fixed grid instead (:func:`_sample_model_cdf`): the only atom is then at 0, of mass
max(0, 1 − mψ_n/ψ_p), since U_m is a Gram matrix of nm vectors in general position (rank
min(p, nm)); the limit ε Im q(iε) of the equations agrees (tests/test_noise_samples.py).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._common.x64 import float64
from .._model.problem import Problem
from .._theory import as_params, solve_offsets, spectral_bound
from .axis import _EPS_REL, _densities, _node_eps, _support
from .pipeline import spectral_structure
from .records import SpectralStructure

__all__ = ["spectral_cdf", "wasserstein1"]

_CDF_POINTS = 2049
# grid of the m-sample CDF: a scan of the support, then a geometric grid near 0 (an atom
# there, or a λ^{-1/2} density when nm = p), a uniform one above, refined around each edge
_SCAN_POINTS = 2048
_LOW_POINTS = 2048
_LOW_TOP = 0.02      # the geometric grid covers [1e-10 × bound, _LOW_TOP × top]
_GRID_POINTS = 8192
_EDGE_POINTS = 512
_MASS_WARN = 1e-3


def _scan(P):
    """(λ grid, inside) of the support test on 2048 points of [0, spectral bound]."""
    ub = float(spectral_bound(P))
    eps = _EPS_REL * ub
    scan = np.linspace(0.0, ub, _SCAN_POINTS)
    inside, _ = _support(solve_offsets(scan - float(P.s2), eps, P), eps)
    return scan, inside


def support_top(P) -> float:
    """Top of the support of the limiting spectrum, to one step of a 2048-point scan of
    [0, spectral bound] by the support test (an upper estimate; the bound if none is found)."""
    scan, inside = _scan(P)
    idx = np.flatnonzero(inside)
    return float(scan[min(idx[-1] + 1, scan.size - 1)]) if idx.size else float(scan[-1])


def _sample_model_cdf(P):
    """(λ grid, F on the grid, atom mass at 0) of the spectrum of the m-sample U.

    The density is integrated by the trapezoidal rule on 8192 uniform points up to 1.01 ×
    the top of the support, on 2048 geometric points from 10⁻¹⁰ of the bound to 2 % of the
    top (where the parts near s_t² and 0 sit: steps of 1 %), and on 512 extra points across
    each edge bracket of the scan. A square-root edge costs ~ρ'h^{3/2} on a grid of step h
    (1e-4 of the mass at h = top/8192, ψ_p = 16); with the refinement the masses add to 1
    within ~1e-5 and F is within ~1e-5 of a 16× finer grid at ψ_p = 8–16, m = 1–4. The
    atom's Lorentzian is subtracted. A RuntimeWarning says when the masses add up to 1 only
    within more than 1e-3 (a bulk narrower than the grid spacing).
    """
    s2 = float(P.s2)
    ub = float(spectral_bound(P))
    eps = _EPS_REL * ub
    scan, inside = _scan(P)
    idx = np.flatnonzero(inside)
    top = float(scan[min(idx[-1] + 1, scan.size - 1)]) if idx.size else ub
    flips = np.flatnonzero(inside[1:] != inside[:-1])
    edges = [np.linspace(scan[max(k - 1, 0)], scan[min(k + 2, scan.size - 1)], _EDGE_POINTS)
             for k in flips]
    low = np.geomspace(1e-10 * ub, _LOW_TOP * top, _LOW_POINTS)
    lam = np.unique(np.concatenate([[0.0], low, np.linspace(_LOW_TOP * top, 1.01 * top,
                                                            _GRID_POINTS)] + edges))
    lam = lam[lam <= 1.01 * top]
    atom = max(0.0, 1.0 - float(P.psi_n) / (float(P.inv_m) * float(P.psi_p)))
    sol = solve_offsets(lam[1:] - s2, eps, P)
    rho = np.concatenate([[0.0], _densities(sol, lam[1:] - s2, eps, -s2, atom)[0]])
    pieces = 0.5 * (rho[1:] + rho[:-1]) * np.diff(lam)
    # [0, λ₁]: exact for the λ^{-1/2} density at nm = p, and ~ρλ₁ (negligible) otherwise
    pieces[0] = 2.0 * rho[1] * lam[1]
    cum = np.concatenate([[0.0], np.cumsum(pieces)])
    total = atom + cum[-1]
    if abs(total - 1.0) > _MASS_WARN or not sol.result.converged.all():
        warnings.warn(f"spectral CDF of the m-sample model: masses add to {total:.6g} "
                      f"({int((~sol.result.converged).sum())} unconverged points)",
                      RuntimeWarning, stacklevel=3)
    return lam, atom + cum, atom


def _check_no_structure(P, structure):
    if P.inv_m is not None and structure is not None:
        raise ValueError("structure must be None for finitely many noise samples (the "
                         f"structure is derived for m = inf only), got {structure!r}")


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
            Must be None for finitely many noise samples (the CDF is then integrated on a
            grid, see the module docstring).

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
    _check_no_structure(P, structure)
    if P.inv_m is not None:
        grid, F, _ = _sample_model_cdf(P)
        return np.where(lam < 0.0, 0.0, np.interp(lam, grid, F, left=0.0, right=F[-1]))
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
        structure: the structure of this problem (else computed here, without d); None
            for finitely many noise samples.

    Returns:
        W₁ (a float).

    Raises:
        ValueError: for an empty or non-finite ``eigenvalues``, or a ``structure`` with
            finitely many noise samples.
    """
    ev = np.sort(np.asarray(eigenvalues, dtype=float).ravel())
    if ev.size == 0 or not np.all(np.isfinite(ev)):
        raise ValueError(f"eigenvalues must be a non-empty finite array, got {eigenvalues!r}")
    P = as_params(problem)
    _check_no_structure(P, structure)
    if isinstance(problem, Problem) and abs(float(problem.coefficients.mu0)) > 1e-8:
        ev = ev[:-1]
    if P.inv_m is not None:
        grid, F, _ = _sample_model_cdf(P)
        x = np.unique(np.concatenate([ev, grid, [min(ev[0], 0.0)]]))
        f_th = np.where(x < 0.0, 0.0, np.interp(x, grid, F, left=0.0, right=F[-1]))
        return _w1(x, f_th, ev)
    if structure is None:
        structure = spectral_structure(problem)
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
    return _w1(x, f_th, ev)


def _w1(x, f_th, ev):
    """∫ |F − F_emp| on the sorted grid x (which contains the eigenvalues ev)."""
    f_emp = np.searchsorted(ev, x, side="right") / ev.size
    # F_emp is constant on each [x_i, x_{i+1}) (eigenvalues are grid points); F is
    # continuous between atoms: trapezoid of |F − F_emp(x_i)|
    diff_l = np.abs(f_th[:-1] - f_emp[:-1])
    diff_r = np.abs(f_th[1:] - f_emp[:-1])
    return float(np.sum(0.5 * (diff_l + diff_r) * np.diff(x)))
