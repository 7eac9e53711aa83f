"""Structure of the asymptotic spectrum of U: atoms, bulks, edges, masses, roles.

The parts are found from the equations, not from a histogram, in this order:

1.-2. support scan, hidden gaps and necks (:mod:`.support`);
3. edges, as folds of the real equations (:mod:`.edges`);
4. masses and measures on adaptive panels (:mod:`.quadrature`), after
5. the atom at s_t² (its Lorentzian is subtracted from the bulk densities), of mass
   lim ε Im q(s_t² + iε), taken at ε = 1e-14 of the scale (analytically
   max(0, 1 − (1 + ψ_n)/ψ_p) when v_t > 0, 1 − 1/ψ_p for the linear activation); s and r
   stay finite at s_t², so ν_s and ν_r have no atom there;
6. roles, by matching masses to the predicted parts (:mod:`.roles`); bulks that match
   nothing are labelled ``unidentified`` and the notes say why;
7. outlier. For non-odd σ (μ₀ ≠ 0) the rank-one μ₀² 11ᵀ adds one eigenvalue, of mass 0
   per p, near μ₀² p + (1/p) Tr U (first order for a rank-one perturbation far above the
   bulk; an estimate, reported only when d is given; at ψ_p = 8, d = 100, relu it is ~3 %
   below the exact top eigenvalue).

Internally every λ is the offset λ − s_t² (see :mod:`.axis`).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._common import NotConvergedError
from .._common.validation import positive, positive_int
from .._common.x64 import float64
from .._model.problem import Problem
from .._theory import (
    as_params,
    mean_eigenvalue,
    require_noise_averaged,
    solve_offsets,
    spectral_bound,
)
from .axis import _EPS_ATOM, _EPS_REL, _atom_offset, _atom_weights, _node_eps
from .counts import predicted_counts, predicted_masses
from .edges import _refine_edges
from .quadrature import _adaptive_quadrature
from .records import SpectralPart, SpectralStructure, _BulkQuadrature
from .roles import _label
from .support import _find_bulks, _scan_grid

__all__ = ["spectral_structure"]

_ATOM_MIN = 1e-9          # smallest atom mass reported
_MASS_TOL = 1e-7          # total-mass check


@float64
def spectral_structure(problem, d: int | None = None, *, scan_points: int = 3072,
                       nodes_per_panel: int = 64, tol: float = 1e-10,
                       throw: bool = False) -> SpectralStructure:
    """Atoms and bulks of the asymptotic spectrum of U, with roles, edges and masses.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        d: dimension at which eigenvalue counts (and the μ₀ outlier) are reported; needs
            a :class:`Problem`.
        scan_points: points of the support scan (≥ 64). A bulk narrower than the local grid
            spacing (about 1 % of its distance to s_t²) can be missed; the mass check then
            fails and says so.
        nodes_per_panel: Gauss–Legendre nodes (in θ) per quadrature panel.
        tol: relative tolerance of each panel integral (the panel's N- and N/2-node
            rules must agree to tol × (panel mass + 0.01)).
        throw: raise :class:`rfdiff.NotConvergedError` when the structure did not converge
            (default: return it with ``converged`` False and say why in ``notes``).

    Returns:
        :class:`SpectralStructure` with parts in increasing λ.

    Raises:
        ValueError: for a bad problem, d without a :class:`Problem`, or bad sizes.
        NotImplementedError: for finitely many noise samples (``noise_samples`` < ∞): the
            parts and their roles are derived for m = ∞ only (the density, the CDF and
            W₁ are available for every m).
        NotConvergedError: with ``throw=True``, when a solve, an edge or the mass check
            failed.
    """
    P = as_params(problem)
    require_noise_averaged(P, "spectral_structure")
    scan_points = positive_int("scan_points", scan_points)
    nodes_per_panel = positive_int("nodes_per_panel", nodes_per_panel)
    tol = positive("tol", tol)
    if scan_points < 64:
        raise ValueError(f"scan_points must be >= 64, got {scan_points!r}")
    if nodes_per_panel < 4:
        raise ValueError(f"nodes_per_panel must be >= 4, got {nodes_per_panel!r}")
    if d is not None:
        d = positive_int("d", d)
        if not isinstance(problem, Problem):
            raise ValueError(f"d needs a rfdiff.Problem (for p and n), got {problem!r}")
    ub = float(spectral_bound(P))
    eps = _EPS_REL * ub
    base = _atom_offset(P)
    s2 = float(P.s2)
    kappa = float(jnp.sum(P.weights * P.atoms))
    notes: list[str] = []

    # 1.-2. support scan, hidden gaps and necks
    grid = _scan_grid(base, ub, scan_points)
    sol = solve_offsets(grid, eps, P)
    ok = bool(sol.result.converged.all())
    if not ok:
        notes.append(f"{int((~sol.result.converged).sum())} of {grid.size} scan points did "
                     "not converge")
    found = _find_bulks(P, grid, sol, eps, notes, base)

    # 3. edges
    bulks, errors = [], []
    if found:
        edges = [e for b in found for e in (b.lo, b.hi)]
        loc, err, refined = _refine_edges(P, edges, eps)
        if not refined.all():
            ok = False
            notes.append(f"{int((~refined).sum())} edge(s) found by bisection of the support "
                         "test, not by the fold condition")
        bulks = [(loc[2 * k], loc[2 * k + 1]) for k in range(len(found))]
        errors = [max(err[2 * k], err[2 * k + 1]) for k in range(len(found))]
        if bulks[0][0] == base:
            notes.append("the lowest bulk reaches the atom location s_t² (ψ_p ≈ ψ_n + 1?): "
                         "its lower edge is s_t² and the atom mass there is uncertain")

    # 5. atom (needed before the quadrature: its Lorentzian is subtracted)
    m_atom, _, _, atom_conv = _atom_weights(P, base, _EPS_ATOM * ub)
    ok &= atom_conv
    has_atom = m_atom > _ATOM_MIN
    m_atom = m_atom if has_atom else 0.0

    # 4. masses
    panels = []
    for k, ((lo, hi), b) in enumerate(zip(bulks, found)):
        cuts = [lo] + sorted(n for n in b.necks if lo < n < hi) + [hi]
        panels += [(cuts[i], cuts[i + 1], k) for i in range(len(cuts) - 1)]
    eps_nodes = _node_eps(P, bulks)
    lam_n, w_n, idx_n, dens_n, quad_ok = _adaptive_quadrature(
        P, panels, nodes_per_panel, tol, eps_nodes, base, m_atom, kappa)
    if not quad_ok:
        ok = False
        notes.append("the bulk quadrature did not reach its tolerance (or a node did not "
                     "converge)")
    masses = [float(np.sum((w_n * dens_n[0])[idx_n == k])) for k in range(len(bulks))]

    # 6. roles and counts
    predicted = predicted_masses(problem)
    labels, note = _label(masses, predicted, tuple(np.asarray(P.atoms)),
                          tuple(np.asarray(P.weights)))
    if note:
        notes.append(note)
    if labels is None and bulks:
        notes.append("bulk masses " + ", ".join(f"{m:.6g}" for m in masses)
                     + " match no grouping of the predicted parts ("
                     + ", ".join(f"{k}={v:.6g}" for k, v in predicted.items()) + ")")
    counts = predicted_counts(problem, d) if d is not None else None
    parts: list[SpectralPart] = []
    if has_atom:
        parts.append(SpectralPart("atom", "s2_atom", s2 + base, s2 + base, float(m_atom),
                                  predicted["s2_atom"],
                                  counts["s2_atom"] if counts else None, 0.0))
    bulk_part = []
    p_d = problem.sizes(d)[0] if counts else None
    for k, ((lo, hi), mass) in enumerate(zip(bulks, masses)):
        necks = tuple(float(n) for n in found[k].necks if lo < n < hi)
        if labels is None:
            role, pm, count, frag = "unidentified", None, None, None
        else:
            lab = labels[k]
            role, frag = lab.role, lab.fragment
            if frag is None:
                pm = lab.predicted_mass
                count = (int(round(sum(counts[r] * f for r, f in lab.members)))
                         if counts else None)
            else:
                # a split part: no separate prediction; the count follows from the mass
                pm = None
                count = int(round(mass * p_d)) if counts else None
                if frag[0] == 1:
                    notes.append(f"{role} is split into {frag[1]} bulks")
            if len(lab.members) > 1 and (frag is None or frag[0] == 1):
                notes.append(f"{' and '.join(lab.role.split('+'))} are merged into one bulk "
                             f"[{s2 + lo:.6g}, {s2 + hi:.6g}]")
        bulk_part.append(len(parts))
        parts.append(SpectralPart("bulk", role, s2 + float(lo), s2 + float(hi), mass, pm,
                                  count, float(errors[k]), tuple(s2 + n for n in necks),
                                  frag))

    # 7. outlier of the mean (non-odd σ)
    if isinstance(problem, Problem) and d is not None:
        mu0 = float(problem.coefficients.mu0)
        if abs(mu0) > 1e-8:
            p, _ = problem.sizes(d)
            loc = mu0**2 * p + float(mean_eigenvalue(P))
            parts.append(SpectralPart("atom", "outlier", loc, loc, 0.0, 0.0, 1, float("nan")))
            notes.append("the outlier location μ₀² p + (1/p) Tr U is a first-order estimate")

    total = float(sum(p.mass for p in parts))
    if abs(total - 1.0) > _MASS_TOL:
        ok = False
        notes.append(f"masses add to {total:.10g}, not 1: a part may have been missed")
    # parts are already in increasing λ (atom at the bottom, outlier at the top)
    quad = _BulkQuadrature(s2 + lam_n, w_n, np.asarray([bulk_part[i] for i in idx_n], int),
                           dens_n[0], dens_n[1], dens_n[2], quad_ok)
    if throw and not ok:
        raise NotConvergedError("spectral_structure: not converged; " + " ".join(notes))
    return SpectralStructure(tuple(parts), d, total, bool(ok), tuple(notes), kappa, quad)
