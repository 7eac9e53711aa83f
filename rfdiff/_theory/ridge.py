"""Weight decay λ ≥ 0 in the asymptotic learning curves.

Training minimises L_λ = L + λΔ_t‖M‖²_F/d (M = A/√p; ``Problem.ridge``), whose flow is the
ridgeless one with U replaced by U_λ = U + λI (docs/theory.md, "Weight decay"). From
M(0) = 0, with f = f_τ(U_λ) and g = g_τ(U_λ) = f_{2τ}(U_λ),

    M(τ) = −Δ^{−1/2} b W̃ᵀ f,
    L_test  = 1 + b² (1/d) Tr K f Ũ f − 2b² (1/d) Tr K f          (Ũ keeps s_t²),
    L_train = 1 + b² (1/d) Tr K f U f − 2b² (1/d) Tr K f
            = 1 − b² (1/d) Tr K g − λ b² (1/d) Tr K f²,

the last line from U = U_λ − λI and x f_τ(x)² − 2 f_τ(x) = −f_{2τ}(x)
(``derivations/ridge.py``). The train loss is reported without the penalty term; with
λ = 0 it reduces to the ridgeless 1 − b² (1/d) Tr K g_τ(U).

Every resolvent is then one of U_λ: U_λ is the Gaussian-equivalent matrix with s_t² shifted
to s_t² + λ (:func:`solver_params`), so the one- and two-point solvers are used unchanged,
and (1/d) Tr K f² is the double contour sum of the two-point trace F_I(z_j, z_k) =
(1/d) Tr K R_{z_j} R_{z_k} that the test loss already computes. Only the population matrix
Ũ = A S + b² K + (s_t² + v²) I of the test loss keeps the unshifted s_t².
"""

from __future__ import annotations

import jax.numpy as jnp

from .params import SpectralParams

__all__ = ["solver_params", "penalty_free_train"]


def solver_params(P: SpectralParams, ridge) -> SpectralParams:
    """The parameters of U_λ = U + λI: those of U with s_t² → s_t² + λ.

    Args:
        P: the parameters of U (may be traced or batched).
        ridge: λ ≥ 0 (a scalar, or an array broadcasting with ``P.s2``).

    Returns:
        :class:`SpectralParams` for the resolvent solves; use the unshifted ``P`` for the
        population matrix Ũ.
    """
    return P._replace(s2=P.s2 + ridge)


def penalty_free_train(train_ridge_part, ridge, b2, tr_KfIf):
    """L_train = (1 − b² (1/d) Tr K g) − λ b² (1/d) Tr K f², the loss without the penalty.

    Args:
        train_ridge_part: 1 − b² (1/d) Tr K g_τ(U_λ), the ridgeless form evaluated at U_λ.
        ridge: λ.
        b2: b_t².
        tr_KfIf: (1/d) Tr K f_τ(U_λ)², the contour double sum of F_I.

    Returns:
        The train loss of the weights of the penalised flow, measured with U.
    """
    ridge = jnp.asarray(ridge)
    # λ = 0 leaves the ridgeless value untouched even where the double sum is not finite
    return jnp.where(ridge > 0, train_ridge_part - ridge * b2 * tr_KfIf, train_ridge_part)
