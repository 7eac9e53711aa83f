"""Default grids of training times τ (paper time τ = kη/d²), one home for all of them.

Each grid is read-only, so that a default shared by several functions cannot be changed
through one of them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TIMESCALES_TAU", "GENERATION_TAU", "DIFFUSION_TIME_TAU", "LOSS_TAU",
           "reference_tau"]


def _frozen(a):
    a = np.asarray(a, dtype=float)
    a.flags.writeable = False
    return a


#: :func:`rfdiff.timescales` and :func:`rfdiff.scaling_report`: 181 log-spaced points in
#: [1e-2, 1e7] (τ = ∞ is appended by the functions that need L_gen(∞)).
TIMESCALES_TAU = _frozen(np.logspace(-2, 7, 181))

#: :func:`rfdiff.generation_curve` and :func:`rfdiff.memorisation_study`: 15 log-spaced
#: points in [1e1, 1e8] and τ = ∞.
GENERATION_TAU = _frozen(np.concatenate([np.logspace(1, 8, 15), [np.inf]]))

#: label map of :func:`rfdiff.diffusion_time_dependence`: 57 log-spaced points in [1, 1e7].
DIFFUSION_TIME_TAU = _frozen(np.logspace(0, 7, 57))

#: score-error curves of :func:`rfdiff.score_field`: 201 log-spaced points in [1e-2, 1e8]
#: and τ = ∞.
LOSS_TAU = _frozen(np.append(np.logspace(-2, 8, 201), np.inf))


def reference_tau(delta: float) -> np.ndarray:
    """The reference grid on which the phase module locates τ_gen and brackets its roots.

    The minimum of E_score sits at τ ~ ψ_p/(Δ_t λ(ρ₂)) = O(1/Δ_t), so the grid spans six
    decades from 0.01/Δ_t, 49 points (8 per decade).

    Args:
        delta: Δ_t (> 0).

    Returns:
        (49,) increasing times.

    Raises:
        Nothing (a non-positive Δ_t gives NaN times).
    """
    lo = np.log10(0.01 / delta)
    return np.logspace(lo, lo + 6, 49)
