"""Solves near the real axis for the structure of the spectrum: heights ε, support test,
densities, atom weights.

Every λ here is the offset λ − s_t² (see :func:`rfdiff._theory.solve_offsets`): at large t
whole parts sit within 1e-9 of s_t², where absolute λ would keep only a few digits of their
shape. Outside the support Im q(λ + iε) = ε q'(λ)(1 + O(ε²)), a ratio of 1, while inside
Im q → πρ(λ) > 0; an atom's Lorentzian also has ratio 1, so atoms never look like bulks.
"""

from __future__ import annotations

import math

import numpy as np

from .._theory import solve_offsets, spectral_bound

# Im z of the solves, relative to the spectral scale. Small values matter when parts sit
# very close to s_t² (at large t, v_t² ~ e^{−4t} puts ρ₁ within 1e-8 of the atom).
_EPS_REL = 1e-12          # support scan, zooms, edges
_EPS_NODES = 1e-13        # quadrature nodes (inside bulks: well conditioned), and at most
_EPS_WIDTH = 1e-12        # this fraction of the bulk width: the smoothing by ε removes
                          # ~(ε/width)·mass·O(10) from a bulk with steep square-root edges
_EPS_ATOM = 1e-14         # atom mass ε Im q(s_t² + iε): nearby bulks add O(ε²/δ²)
_SUPPORT_RATIO = 3.0      # Im q > ratio · ε|q'| marks the support (gap value: 1 + O(ε²))


def _atom_offset(P) -> float:
    # the atom of U is at s_t² (offset 0); the population limit (ψ_n = ∞) has it at
    # s_t² + v_t². Internally every λ is the offset w = λ − s_t² (see rfdiff._theory.onepoint).
    if math.isinf(float(P.psi_n)):
        return float(P.v2)
    return 0.0


def _support(sol, eps):
    res = sol.result
    inside = res.q.imag > _SUPPORT_RATIO * eps * np.abs(sol.dqdz)
    return inside & res.converged, res.converged


def _densities(sol, lam, eps, atom_loc, atom_mass):
    """Im q/π with the atom's Lorentzian removed, Im s/π, Im r/π at z = λ + iε."""
    res = sol.result
    lorentz = atom_mass * eps / (np.pi * ((lam - atom_loc) ** 2 + eps**2))
    return np.stack([res.q.imag / np.pi - lorentz, res.s.imag / np.pi, res.r.imag / np.pi])


def _node_eps(P, bulks):
    """Im z at the quadrature nodes of each bulk (see _EPS_WIDTH)."""
    ub = float(spectral_bound(P))
    return np.array([min(_EPS_NODES * ub, _EPS_WIDTH * (hi - lo)) for lo, hi in bulks])


def _atom_weights(P, where, eps):
    """ε Im (q, s, r)(where + iε): the atom masses of ρ, ν_s, ν_r (ε → 0)."""
    sol = solve_offsets(np.array([where]), np.array([eps]), P).result
    return (eps * sol.q.imag[0], eps * sol.s.imag[0], eps * sol.r.imag[0],
            bool(sol.converged[0]))

