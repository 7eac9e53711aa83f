"""Quadrature of the normalised spectral measures ρ, ν_s and ν_r of a computed structure."""

from __future__ import annotations

import numpy as np

from .._common.x64 import float64
from .._theory import as_params, require_noise_averaged, spectral_bound
from .axis import _EPS_ATOM, _atom_weights
from .pipeline import _ATOM_MIN, spectral_structure
from .records import MeasureQuadrature, SpectralStructure

__all__ = ["measure_quadrature"]


@float64
def measure_quadrature(problem, which: str = "s", structure: SpectralStructure | None = None,
                       **structure_options) -> MeasureQuadrature:
    """Quadrature nodes and weights of a normalised spectral measure, bulk by bulk.

    - ``which="q"``: the eigenvalue distribution ρ (density Im q/π; mass 1 with the atom
      at s_t²);
    - ``which="s"``: ν_s, density Im s/π, mass 1 (s = (1/p) Tr W̃W̃ᵀ(U − z)⁻¹ ~ −1/z);
    - ``which="r"``: ν_r, density Im r/π divided by κ (r ~ −κ/z).

    In the limit, L_train(τ) = 1 − b_t²ψ_p ∫ dν_s(λ)(1 − e^{−4Δ_tλτ/ψ_p})/λ.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        which: ``"q"``, ``"s"`` or ``"r"``.
        structure: the structure already computed for this problem (else computed here).
        **structure_options: passed to :func:`spectral_structure` (``nodes_per_panel``,
            ``tol``, ``scan_points``).

    Returns:
        :class:`MeasureQuadrature`.

    Raises:
        ValueError: for an unknown ``which`` or a bad ``problem``.
    """
    if which not in ("q", "s", "r"):
        raise ValueError(f"which must be 'q', 's' or 'r', got {which!r}")
    P = as_params(problem)
    require_noise_averaged(P, "measure_quadrature")
    if structure is None:
        structure = spectral_structure(problem, **structure_options)
    elif not isinstance(structure, SpectralStructure) or structure.quadrature is None:
        raise ValueError(f"structure must be a SpectralStructure, got {structure!r}")
    quad = structure.quadrature
    kappa = structure.kappa
    dens = {"q": quad.rho, "s": quad.nu_s, "r": quad.nu_r / kappa}[which]
    weights = quad.weight * dens
    eps = _EPS_ATOM * float(spectral_bound(P))
    locs, masses = [], []
    conv = bool(quad.converged)
    for p in structure.parts:
        if p.kind != "atom" or p.role == "outlier":
            continue
        mq, ms, mr, c = _atom_weights(P, p.lo - float(P.s2), eps)
        conv &= c
        m = {"q": mq, "s": ms, "r": mr / kappa}[which]
        if m > _ATOM_MIN:
            locs.append(p.lo)
            masses.append(m)
    locs, masses = np.asarray(locs, float), np.asarray(masses, float)
    total = float(np.sum(weights) + np.sum(masses))
    return MeasureQuadrature(which, quad.lam.copy(), weights, quad.part.copy(), locs, masses,
                             total, conv, structure)
