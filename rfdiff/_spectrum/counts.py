"""Eigenvalue counts and masses of the parts of the spectrum of U, from ranks.

U − s_t² I = (1/n) G Gᵀ + b_t² W̃W̃ᵀ lives on span(W̃, Ω), of dimension min(p, n + d); G
(p×n) has rank min(p, n) when v_t > 0. Filling the p dimensions from the strongest
directions down:

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
proportional to its weight, and such a piece can join ρ₁ (see :mod:`.roles`).
"""

from __future__ import annotations

import math

from .._common.validation import positive_int
from .._common.x64 import float64
from .._model.problem import Problem
from .._theory import as_params, require_noise_averaged

__all__ = ["ROLES", "predicted_counts", "predicted_masses"]

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


def _psis(problem):
    P = as_params(problem)
    require_noise_averaged(P, "the predicted spectral parts")
    return float(P.psi_p), float(P.psi_n), _noisy(float(P.v2), float(P.s2), float(P.A),
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
