"""Roles of the bulks: matching their masses to the predicted parts of the spectrum.

Bulk masses are matched, in order along λ, to the predicted parts
(:func:`rfdiff.core.predicted_masses`): one bulk may hold several consecutive parts (reported
merged, e.g. ``d_component+memorisation``) and one part may be split over several
consecutive bulks (``fragment``). If that fails, ρ₁ below the d-component is tried, and then
a split of the d-component and of ρ₂ by the atoms of ρ_Σ (pieces named e.g.
``generalisation(Σ=0.5)``), which is what happens for well-separated data eigenvalues.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from .counts import ROLES

_MATCH_ABS, _MATCH_REL = 1e-6, 1e-4   # tolerance when matching masses to predicted parts


class _Label(NamedTuple):
    role: str
    predicted_mass: float
    members: tuple[tuple[str, float], ...]   # (role, fraction of that role's eigenvalues)
    fragment: tuple[int, int] | None         # (k, K): k-th of K bulks sharing one role


def _close(value, target):
    return abs(value - target) <= _MATCH_ABS + _MATCH_REL * target


def _match_roles(masses, expected):
    """Match bulks (in λ order) to predicted parts (in their expected order).

    A bulk may hold several consecutive parts (merged), or several consecutive bulks may
    share one part (split, e.g. the generalisation bulk splits into one bulk per atom of
    ρ_Σ when those are far apart); masses must agree. Returns a list of :class:`_Label`
    per bulk, or None when no such matching exists.
    """
    names = [n for n, v in expected if v > 1e-12]
    values = [v for n, v in expected if v > 1e-12]
    nb, nr = len(masses), len(names)

    @functools.lru_cache(maxsize=None)
    def solve(i, j):
        if i == nb and j == nr:
            return ()
        if i == nb or j == nr:
            return None
        for j2 in range(j + 1, nr + 1):      # bulk i holds parts j .. j2-1
            if _close(masses[i], sum(values[j:j2])):
                rest = solve(i + 1, j2)
                if rest is not None:
                    return ((i, i + 1, j, j2),) + rest
        for i2 in range(i + 2, nb + 1):      # part j is split over bulks i .. i2-1
            if _close(sum(masses[i:i2]), values[j]):
                rest = solve(i2, j + 1)
                if rest is not None:
                    return ((i, i2, j, j + 1),) + rest
        return None

    blocks = solve(0, 0) if nb else None
    if blocks is None:
        return None
    labels = []
    for i, i2, j, j2 in blocks:
        members = tuple((n, 1.0) for n in names[j:j2])
        total = sum(values[j:j2])
        for k in range(i, i2):
            frag = (k - i + 1, i2 - i) if i2 - i > 1 else None
            labels.append(_Label("+".join(names[j:j2]), total, members, frag))
    return labels


def _assign_pieces(masses, pieces, limit=2):
    """Assign every piece (name, role, fraction, mass) to one bulk so that the masses
    add up; returns up to ``limit`` solutions (lists of bulk indices per piece)."""
    found = []
    left = list(masses)
    choice = [0] * len(pieces)

    def place(i):
        if len(found) >= limit:
            return
        if i == len(pieces):
            if all(abs(x) <= _MATCH_ABS + _MATCH_REL * m for x, m in zip(left, masses)):
                found.append(list(choice))
            return
        for b in range(len(masses)):
            if left[b] - pieces[i][3] >= -(_MATCH_ABS + _MATCH_REL * masses[b]):
                left[b] -= pieces[i][3]
                choice[i] = b
                place(i + 1)
                left[b] += pieces[i][3]

    place(0)
    return found


def _label_pieces(masses, predicted, spectrum_atoms, spectrum_weights):
    """Matching when bulks follow the atoms of ρ_Σ: the d-component and the generalisation
    bulk are split into one piece per atom (mass ∝ its weight) and pieces are assigned
    to bulks freely. Returns (labels, note) or (None, None)."""
    pieces = []
    for role in [r for r in ROLES if r != "s2_atom"]:
        mass = predicted[role]
        if mass <= 1e-12:
            continue
        if role in ("d_component", "generalisation") and len(spectrum_atoms) > 1:
            for a, w in zip(spectrum_atoms, spectrum_weights):
                if w > 0:
                    pieces.append((f"{role}(Σ={a:.4g})", role, w, mass * w))
        else:
            pieces.append((role, role, 1.0, mass))
    if len(pieces) > 9 or len(masses) > 9:
        return None, None
    solutions = _assign_pieces(masses, pieces)
    if not solutions:
        return None, None
    choice = solutions[0]
    labels = []
    for b in range(len(masses)):
        mine = [p for p, c in zip(pieces, choice) if c == b]
        labels.append(_Label("+".join(p[0] for p in mine), sum(p[3] for p in mine),
                             tuple((p[1], p[2]) for p in mine), None))
    note = ("the bulks follow the atoms of ρ_Σ: the d-component and generalisation parts "
            "are split by data eigenvalue")
    if len(solutions) > 1:
        note += " (the assignment of the pieces is not unique; the first one is shown)"
    return labels, note


def _label(masses, predicted, atoms=(), weights=()):
    order = [r for r in ROLES if r != "s2_atom"]
    labels = _match_roles(masses, [(r, predicted[r]) for r in order])
    if labels is not None:
        return labels, None
    # the d-component can rise above ρ₁ (v_t² → 0 at large t): try that order too
    alt = ["memorisation", "d_component", "feature_only", "generalisation"]
    labels = _match_roles(masses, [(r, predicted[r]) for r in alt])
    if labels is not None:
        return labels, "the memorisation bulk lies below the d-component"
    return _label_pieces(masses, predicted, atoms, weights)
