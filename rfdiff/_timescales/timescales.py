"""Generalisation and memorisation timescales, from the spectrum and from the curves.

Spectral timescales (the paper's convention): a mode of U with eigenvalue λ has timescale
τ_λ = ψ_p/(Δ_t λ). The exact relaxation is e^{−2Δ_tλτ/ψ_p} in the weights and
e^{−4Δ_tλτ/ψ_p} in the losses, so a loss contribution has decayed by 1/e at τ_λ/4.
For every part of the spectrum both edges are reported:

- ``tau_gen['spectral']`` = ψ_p/(Δ_t λ_lo(ρ₂)): the slowest generalisation mode (left edge
  of the generalisation bulk ρ₂); independent of ψ_n at large ψ_n;
- ``tau_mem['spectral']`` = ψ_p/(Δ_t λ_lo(ρ₁)): the paper's τ_mem (left edge of the
  memorisation bulk ρ₁, completion of memorisation);
- ``tau_mem['onset']`` = ψ_p/(Δ_t λ_hi(ρ₁)): the fastest memorisation mode (right edge).

Curve timescales come from the asymptotic learning curves (see
:mod:`rfdiff._curve_timescales` for their definitions). The d-eigenvalue component just above
s_t² is quantified by its share of the τ = ∞ train-loss drop,
∫_{part} dν_s/λ ÷ ∫ dν_s/λ, and by its own timescales.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._theory.curves import asymptotic_curves
from .curve import CurveTimescales, curve_timescales
from .._model.problem import Problem
from .._spectrum.structure import measure_quadrature, spectral_structure

__all__ = ["Timescales", "timescales", "spectral_timescales"]

DEFAULT_TAU = np.logspace(-2, 7, 181)


class Timescales(NamedTuple):
    """Both sets of timescales of one problem, with their definitions.

    Attributes:
        tau_gen: ``{"spectral": ..., "curve": ...}``.
        tau_mem: ``{"spectral": ..., "onset": ..., "curve": ...}``.
        parts: per spectral part: role, edges, ``tau_fast`` = ψ_p/(Δλ_hi),
            ``tau_slow`` = ψ_p/(Δλ_lo), ``loss_rate_hi``/``loss_rate_lo`` = 4Δλ/ψ_p (the
            exact decay rates of the losses), and ``train_drop_share`` (share of the τ = ∞
            train-loss drop carried by the part).
        curve: the :class:`CurveTimescales` of the asymptotic curves.
        definitions: text.
        notes: remarks (merged parts, missing parts).
    """

    tau_gen: dict
    tau_mem: dict
    parts: list
    curve: CurveTimescales
    definitions: str
    notes: tuple


def _find(structure, role):
    for p in structure.bulks:
        if role in p.role.split("+"):
            return p
    return None


def spectral_timescales(problem: Problem, structure=None) -> tuple[list, dict, dict, tuple]:
    """Per-part timescales and the spectral τ_gen, τ_mem (see the module docstring).

    Args:
        problem: the model.
        structure: a precomputed :func:`rfdiff.spectral_structure` (optional).

    Returns:
        ``(parts, tau_gen, tau_mem, notes)``: ``parts`` a list of dicts; ``tau_gen`` with key
        ``spectral``; ``tau_mem`` with keys ``spectral`` and ``onset`` (``nan`` when the
        part is absent).

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem`.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    structure = structure or spectral_structure(problem)
    scale = problem.psi_p / problem.delta
    nu = measure_quadrature(problem, "s", structure)
    inv = nu.weights / nu.nodes
    total = float(np.sum(inv)) + float(np.sum(nu.atom_masses / np.maximum(nu.atom_locations,
                                                                            1e-300)))
    parts, notes = [], list(structure.notes)
    for i, p in enumerate(structure.parts):
        if p.role == "outlier":
            continue
        share = float(np.sum(inv[nu.part == i])) / total if total > 0 else float("nan")
        parts.append({
            "role": p.role, "kind": p.kind, "lo": p.lo, "hi": p.hi, "mass": p.mass,
            "tau_fast": scale / p.hi if p.hi > 0 else float("inf"),
            "tau_slow": scale / p.lo if p.lo > 0 else float("inf"),
            "loss_rate_hi": 4 * p.hi / scale, "loss_rate_lo": 4 * p.lo / scale,
            "train_drop_share": share,
        })
    gen, mem = _find(structure, "generalisation"), _find(structure, "memorisation")
    if gen is not None and "+" in gen.role:
        notes.append(f"the generalisation bulk is merged ({gen.role}): its left edge is "
                     "that of the merged part")
    if mem is not None and "+" in mem.role:
        notes.append(f"the memorisation bulk is merged ({mem.role}): its edges are those "
                     "of the merged part")
    if mem is None:
        notes.append("no memorisation bulk at these parameters")
    nan = float("nan")
    tau_gen = {"spectral": scale / gen.lo if gen else nan}
    tau_mem = {"spectral": scale / mem.lo if mem else nan,
               "onset": scale / mem.hi if mem else nan}
    return parts, tau_gen, tau_mem, tuple(notes)


def timescales(problem: Problem, tau=None, *, gen_factor: float = 2.0,
               gen_threshold: float = 0.1, mem_factor: float = 2.0,
               mem_fraction: float = 0.5) -> Timescales:
    """τ_gen and τ_mem of a problem in the high-dimensional limit, spectral and from curves.

    Args:
        problem: the model.
        tau: grid of training times for the curve timescales (default 181 log-spaced
            points in [1e-2, 1e7]).
        gen_factor, gen_threshold, mem_factor, mem_fraction: thresholds of the curve
            timescales (:func:`rfdiff.curve_timescales`).

    Returns:
        :class:`Timescales`.

    Raises:
        ValueError: for a bad problem, grid or threshold.
    """
    parts, tau_gen, tau_mem, notes = spectral_timescales(problem)
    grid = DEFAULT_TAU if tau is None else np.asarray(tau, dtype=float)
    if not np.any(np.isinf(grid)):
        grid = np.append(grid, np.inf)  # L_gen(∞) sets the level of tau_mem
    res = asymptotic_curves(problem, grid)
    ct = curve_timescales(res.curves, gen_factor, gen_threshold, mem_factor, mem_fraction)
    if not res.ok:
        notes = notes + ("some times of the asymptotic curves did not converge",)
    tau_gen = {**tau_gen, "curve": ct.tau_gen}
    tau_mem = {**tau_mem, "curve": ct.tau_mem}
    definitions = (
        "spectral: tau_lambda = psi_p/(Delta_t lambda) (losses decay exactly as "
        "exp(-4 Delta_t lambda tau/psi_p)); tau_gen.spectral at the left edge of the "
        "generalisation bulk; tau_mem.spectral at the left edge of the memorisation bulk "
        "(the paper's tau_mem), tau_mem.onset at its right edge. curve: " + ct.definitions
        + "; tau_gen.curve = tau_gen, tau_mem.curve = tau_mem of the asymptotic curves.")
    return Timescales(tau_gen, tau_mem, parts, ct, definitions, notes)
