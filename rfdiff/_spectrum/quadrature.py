"""Masses and measures of the bulks: adaptive Gauss–Legendre panels, atom weights.

Bulks are integrated on adaptive panels, each with Gauss–Legendre nodes in θ,
λ = a + (b − a)(1 − cos θ)/2 (this absorbs square-root edges). A panel is split in two until
an N-node and an N/2-node rule agree for ρ, ν_s and ν_r (mass and two moments). The nodes
are solved at ε = min(1e-13 of the scale, 1e-12 of the bulk width), and the Lorentzian of
the atom at s_t², known exactly, is subtracted from Im q. The mass of the atom at s_t² is
lim ε Im q(s_t² + iε) (:func:`.axis._atom_weights`).
"""

from __future__ import annotations

import functools

import numpy as np

from .._theory import solve_offsets
from .axis import _densities

_MAX_ROUNDS = 40


@functools.lru_cache(maxsize=None)
def _theta_rule(nodes: int):
    x, w = np.polynomial.legendre.leggauss(nodes)
    return 0.5 * np.pi * (x + 1.0), 0.5 * np.pi * w


def _panel_nodes(a, b, nodes):
    """Nodes and weights of ∫_a^b f dλ with λ = a + (b − a)(1 − cos θ)/2, θ ∈ [0, π]."""
    theta, w = _theta_rule(nodes)
    a, b = np.asarray(a, float)[:, None], np.asarray(b, float)[:, None]
    lam = a + 0.5 * (b - a) * (1.0 - np.cos(theta))
    return lam, w * 0.5 * (b - a) * np.sin(theta)


def _adaptive_quadrature(P, panels, nodes, tol, eps_bulk, atom_loc, atom_mass, kappa):
    """Integrate ρ, ν_s, ν_r over panels (a, b, bulk index), splitting until converged.

    ``eps_bulk[k]`` is the Im z used at the nodes of bulk k.

    Returns (lam, weight, bulk index, densities (3, m), converged flag).
    """
    half = max(2, nodes // 2)
    active = list(panels)
    keep_lam, keep_w, keep_idx, keep_dens = [], [], [], []
    converged, all_conv = True, True
    for rnd in range(_MAX_ROUNDS):
        if not active:
            break
        a = np.array([p[0] for p in active])
        b = np.array([p[1] for p in active])
        lam_n, w_n = _panel_nodes(a, b, nodes)
        lam_h, w_h = _panel_nodes(a, b, half)
        lam = np.concatenate([lam_n.ravel(), lam_h.ravel()])
        eps_p = eps_bulk[np.array([p[2] for p in active])]
        eps = np.concatenate([np.repeat(eps_p, nodes), np.repeat(eps_p, half)])
        sol = solve_offsets(lam, eps, P)
        all_conv &= bool(sol.result.converged.all())
        dens = _densities(sol, lam, eps, atom_loc, atom_mass)
        k = len(active)
        d_n = dens[:, : k * nodes].reshape(3, k, nodes)
        d_h = dens[:, k * nodes:].reshape(3, k, half)
        # compare the two rules on the masses and on two moments in x = (λ − a)/(b − a),
        # so that the shape of the density is resolved, not only its integral
        x_n = (lam_n - a[:, None]) / (b - a)[:, None]
        x_h = (lam_h - a[:, None]) / (b - a)[:, None]
        i_n = np.stack([np.sum(d_n * w_n * x_n**j, axis=-1) for j in range(3)])
        i_h = np.stack([np.sum(d_h * w_h * x_h**j, axis=-1) for j in range(3)])
        scale = np.array([1.0, 1.0, kappa])[None, :, None]
        err = np.max(np.abs(i_n - i_h) / scale, axis=(0, 1))
        size = np.max(np.abs(i_n[0]) / scale[0], axis=0)
        good = err <= tol * (1e-2 + size)
        last = rnd == _MAX_ROUNDS - 1
        nxt = []
        for j, p in enumerate(active):
            if good[j] or last:
                keep_lam.append(lam_n[j])
                keep_w.append(w_n[j])
                keep_idx.append(np.full(nodes, p[2]))
                keep_dens.append(d_n[:, j])
                converged &= bool(good[j])
            else:
                mid = 0.5 * (p[0] + p[1])
                nxt += [(p[0], mid, p[2]), (mid, p[1], p[2])]
        active = nxt
    if not keep_lam:
        return np.zeros(0), np.zeros(0), np.zeros(0, int), np.zeros((3, 0)), True
    return (np.concatenate(keep_lam), np.concatenate(keep_w), np.concatenate(keep_idx),
            np.concatenate(keep_dens, axis=1), converged and all_conv)
