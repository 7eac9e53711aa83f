"""The second-level table T(X, Y) = (1/p) Tr X Q_z Y Q_w of two one-point solutions.

Q_z = (β_z I + W̃Λ_zW̃ᵀ)⁻¹ is the first-level deterministic equivalent of the resolvent
(:func:`~.onepoint.terms`), for the noise-averaged model and the m-sample model alike; the
formulas (leave-one-column-out over W̃) are stated in :mod:`.two_point`, and both the
noise-averaged two-point traces (:mod:`.two_point`) and those of the m-sample model
(:mod:`.noise_samples`) are built on this table.
"""

from __future__ import annotations

import jax.numpy as jnp

from .onepoint import expect, terms

__all__ = ["basis_table"]


def basis_table(P, xz, z, xw, w):
    """T(X, Y) = (1/p) Tr X Q_z Y Q_w for X, Y in the basis (I, K, S), shape (3, 3, ...)."""
    qz, qw = xz[0], xw[0]
    _, bz, Lz, lz = terms(xz, z - P.s2, P)
    _, _, _, lw = terms(xw, w - P.s2, P)
    ll = lz * lw
    qq = qz * qw
    den = bz + expect(P, Lz * ll)
    ones = jnp.ones_like(P.atoms)
    phis = (ones, P.atoms)  # K, S
    tau = [qw / den] + [(qw * expect(P, psi * lw) - P.psi_p * qq * expect(P, Lz * psi * ll))
                        / den for psi in phis]
    rows = [tau]
    for phi in phis:
        e = expect(P, phi * ll)
        rows.append([e * tau[0]] + [e * tau[j + 1] + P.psi_p * qq * expect(P, phi * psi * ll)
                                    for j, psi in enumerate(phis)])
    return rows
