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

With weight decay λ_r (``Problem.ridge``) the flow is that of U + λ_r I (the spectrum of U is
unchanged, each mode relaxes as e^{−2Δ_t(λ + λ_r)τ/ψ_p}), so every spectral timescale is
ψ_p/(Δ_t(λ + λ_r)) at the same edges, and modes at λ = 0 relax in a finite time.

Curve timescales come from the asymptotic learning curves (see
:mod:`rfdiff._timescales.curve` for their definitions and
:mod:`rfdiff._timescales.definitions` for the names). The d-eigenvalue component just above
s_t² is quantified by its share of the τ = ∞ train-loss drop,
∫_{part} dν_s/λ ÷ ∫ dν_s/λ, and by its own timescales.
"""

from __future__ import annotations

from typing import NamedTuple

import warnings

import numpy as np

from .._common import NotConvergedError, Status, check_converged, status_of
from .._model import Problem
from .._spectrum import measure_quadrature, spectral_structure
from .._theory import asymptotic_curves
from .curve import CurveTimescales, curve_timescales
from .definitions import TimescaleDefinitions
from .grids import TIMESCALES_TAU
from .local import local_exponents

__all__ = ["Timescales", "SpectralTimescales", "timescales", "spectral_timescales",
           "curve_grid"]

#: the default grid of :func:`timescales` (kept under its former name)
DEFAULT_TAU = TIMESCALES_TAU


def _theory_curves(problem: Problem, tau):
    """The asymptotic curves and their (T,) convergence mask."""
    curves = asymptotic_curves(problem, tau)
    return curves, np.asarray(curves.converged, bool)


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
        status: :class:`rfdiff.Status` of the spectral structure and the curves.
        local_exponents: d log τ / d log ψ_n of ``tau_gen_spectral``, ``tau_mem_spectral``
            and ``tau_mem_onset`` at this point, by automatic differentiation through the
            edges (:func:`rfdiff._timescales.local.local_exponents`).

    The precise names of the glossary (:mod:`rfdiff._timescales.definitions`) are
    properties: :attr:`tau_gen_spectral`, :attr:`tau_gen_argmin`,
    :attr:`tau_mem_spectral`, :attr:`tau_mem_onset`, :attr:`tau_mem_fraction`.
    """

    tau_gen: dict
    tau_mem: dict
    parts: list
    curve: CurveTimescales
    definitions: str
    notes: tuple
    status: Status = Status.SUCCESSFUL
    local_exponents: dict | None = None

    @property
    def tau_gen_spectral(self) -> float:
        """ψ_p/(Δ_t λ_lo(ρ₂)) (``tau_gen["spectral"]``)."""
        return self.tau_gen["spectral"]

    @property
    def tau_gen_argmin(self) -> float:
        """The argmin of E_score of the asymptotic curves (``tau_gen["curve"]``)."""
        return self.tau_gen["curve"]

    @property
    def tau_mem_spectral(self) -> float:
        """ψ_p/(Δ_t λ_lo(ρ₁)), the paper's τ_mem (``tau_mem["spectral"]``)."""
        return self.tau_mem["spectral"]

    @property
    def tau_mem_onset(self) -> float:
        """ψ_p/(Δ_t λ_hi(ρ₁)) (``tau_mem["onset"]``)."""
        return self.tau_mem["onset"]

    @property
    def tau_mem_fraction(self) -> float:
        """L_gen rising through mem_fraction × L_gen(∞) (``tau_mem["curve"]``)."""
        return self.tau_mem["curve"]


class _SpectralFields(NamedTuple):
    parts: list
    tau_gen: dict
    tau_mem: dict
    notes: tuple


class SpectralTimescales(_SpectralFields):
    """The spectral timescales; unpacks as ``(parts, tau_gen, tau_mem, notes)``.

    Attributes:
        parts: per spectral part, a dict (see :class:`Timescales`).
        tau_gen: ``{"spectral": ...}``.
        tau_mem: ``{"spectral": ..., "onset": ...}`` (``nan`` when ρ₁ is absent).
        notes: remarks.
        status: :class:`rfdiff.Status` of the spectral structure (its fold solves).
    """

    status = Status.SUCCESSFUL  # of records rebuilt by ``_make``

    def __new__(cls, parts, tau_gen, tau_mem, notes, status=Status.SUCCESSFUL):
        self = super().__new__(cls, parts, tau_gen, tau_mem, notes)
        # kept beside the four fields, so that the record still unpacks as four
        self.__dict__["status"] = Status(status)
        return self

    @property
    def tau_gen_spectral(self) -> float:
        """ψ_p/(Δ_t λ_lo(ρ₂))."""
        return self.tau_gen["spectral"]

    @property
    def tau_mem_spectral(self) -> float:
        """ψ_p/(Δ_t λ_lo(ρ₁)), the paper's τ_mem."""
        return self.tau_mem["spectral"]

    @property
    def tau_mem_onset(self) -> float:
        """ψ_p/(Δ_t λ_hi(ρ₁))."""
        return self.tau_mem["onset"]

    def _replace(self, **fields):
        new = super()._replace(**fields)
        new.__dict__["status"] = self.status
        return new


def _find(structure, role):
    for p in structure.bulks:
        if role in p.role.split("+"):
            return p
    return None


def spectral_timescales(problem: Problem, structure=None, *,
                        throw: bool = False) -> SpectralTimescales:
    """Per-part timescales and the spectral τ_gen, τ_mem (see the module docstring).

    Args:
        problem: the model.
        structure: a precomputed :func:`rfdiff.spectral_structure` (optional).
        throw: raise :class:`rfdiff.NotConvergedError` when the spectral structure did not
            converge (default: the status is ``NOT_CONVERGED`` and its notes say why).

    Returns:
        :class:`SpectralTimescales`, unpacking as ``(parts, tau_gen, tau_mem, notes)``:
        ``parts`` a list of dicts; ``tau_gen`` with key ``spectral``; ``tau_mem`` with keys
        ``spectral`` and ``onset`` (``nan`` when the part is absent).

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem`.
        NotConvergedError: with ``throw=True``, see above.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    structure = structure or spectral_structure(problem)
    scale = problem.psi_p / problem.delta
    ridge = problem.ridge  # rates are those of U + ridge·I (module docstring)
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
            "tau_fast": scale / (p.hi + ridge) if p.hi + ridge > 0 else float("inf"),
            "tau_slow": scale / (p.lo + ridge) if p.lo + ridge > 0 else float("inf"),
            "loss_rate_hi": 4 * (p.hi + ridge) / scale,
            "loss_rate_lo": 4 * (p.lo + ridge) / scale,
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
    tau_gen = {"spectral": scale / (gen.lo + ridge) if gen else nan}
    tau_mem = {"spectral": scale / (mem.lo + ridge) if mem else nan,
               "onset": scale / (mem.hi + ridge) if mem else nan}
    converged = bool(getattr(structure, "converged", True))
    if throw and not converged:
        raise NotConvergedError("spectral_timescales: the spectral structure did not "
                                "converge: " + "; ".join(structure.notes))
    return SpectralTimescales(parts, tau_gen, tau_mem, tuple(notes), status_of(converged))


# the curve timescales need the grid to run past the spectral ones: L_gen reaches its
# plateau about a decade after the left edge of the memorisation bulk
_GRID_MARGIN = 100.0
# a mode of time τ_λ has decayed by e^{-40} at 10 τ_λ (the losses decay as e^{-4τ/τ_λ})
_SLOW_MARGIN = 10.0


def _spectral_max(tau_gen: dict, tau_mem: dict) -> float:
    """The largest finite spectral τ (τ_gen, τ_mem and its onset), or 0."""
    values = [v for v in (*tau_gen.values(), *tau_mem.values()) if np.isfinite(v) and v > 0]
    return max(values, default=0.0)


def _slowest(parts) -> float:
    """The largest finite ``tau_slow`` of the spectral parts (the slowest mode), or 0."""
    values = [p.get("tau_slow", 0.0) for p in parts]
    return max((v for v in values if np.isfinite(v)), default=0.0)


def curve_grid(tau_gen: dict, tau_mem: dict, parts=()) -> np.ndarray:
    """The default grid of the curve timescales, long enough for the spectral ones.

    Args:
        tau_gen, tau_mem: the spectral timescales (dicts of floats, as in
            :class:`SpectralTimescales`; other keys are fine).
        parts: the spectral parts (dicts with ``tau_slow``, as in :class:`Timescales`):
            L_gen reaches its τ = ∞ level only once the slowest mode has relaxed.

    Returns:
        :data:`TIMESCALES_TAU` (1e-2 … 1e7, 20 points a decade), extended at the same
        density to ``_GRID_MARGIN`` × the largest finite spectral timescale or
        ``_SLOW_MARGIN`` × the slowest mode's time, when that is beyond 1e7.
    """
    top = max(_GRID_MARGIN * _spectral_max(tau_gen, tau_mem),
              _SLOW_MARGIN * _slowest(parts))
    if top <= DEFAULT_TAU[-1]:
        return DEFAULT_TAU
    lo = np.log10(DEFAULT_TAU[0])
    hi = np.ceil(np.log10(top))
    return np.logspace(lo, hi, int(round(20 * (hi - lo))) + 1)


def _short_grid_notes(spec, grid) -> tuple:
    """A note (and a warning naming the remedy) when a user grid stops before the
    spectral timescales, so that the curve values ``inf`` are not read as 'never'."""
    finite = grid[np.isfinite(grid)]
    top = _spectral_max(spec.tau_gen, spec.tau_mem)
    if finite.size == 0 or top <= finite.max():
        return ()
    note = (f"the curve grid stops at tau = {finite.max():.3g}, before the spectral "
            f"timescales (up to {top:.3g}): curve values inf mean 'not on the grid'; "
            f"extend tau to about {_GRID_MARGIN * top:.3g}")
    warnings.warn("timescales: " + note, RuntimeWarning, stacklevel=3)
    return (note,)


def timescales(problem: Problem, tau=None, *, gen_factor: float | None = None,
               gen_threshold: float | None = None, mem_factor: float | None = None,
               mem_fraction: float | None = None,
               thresholds: TimescaleDefinitions | None = None,
               throw: bool = False) -> Timescales:
    """τ_gen and τ_mem of a problem in the high-dimensional limit, spectral and from curves.

    Args:
        problem: the model.
        tau: grid of training times for the curve timescales (default
            :func:`curve_grid`: :data:`rfdiff._timescales.grids.TIMESCALES_TAU`, 181
            log-spaced points in [1e-2, 1e7], extended beyond the spectral timescales;
            τ = ∞ is appended). A grid that stops before the spectral timescales gets a
            note and a ``RuntimeWarning``.
        gen_factor, gen_threshold, mem_factor, mem_fraction: thresholds of the curve
            timescales (:func:`rfdiff.curve_timescales`), replacing those of
            ``thresholds``.
        thresholds: a :class:`rfdiff.TimescaleDefinitions` (default: its defaults).
        throw: raise :class:`rfdiff.NotConvergedError` instead of returning a result whose
            status is not ``SUCCESSFUL`` (by default the asymptotic curves warn).

    Returns:
        :class:`Timescales`.

    Raises:
        ValueError: for a bad problem, grid or threshold.
        NotConvergedError: with ``throw=True``, when the spectral structure or the curves
            did not converge.
    """
    th = TimescaleDefinitions.of(thresholds, gen_factor=gen_factor,
                                 gen_threshold=gen_threshold, mem_factor=mem_factor,
                                 mem_fraction=mem_fraction)
    structure = spectral_structure(problem)
    spec = spectral_timescales(problem, structure, throw=throw)
    parts, tau_gen, tau_mem, notes = spec
    exponents = local_exponents(problem, "psi_n", structure)
    grid = curve_grid(tau_gen, tau_mem, parts) if tau is None else np.asarray(tau, dtype=float)
    if not np.any(np.isinf(grid)):
        grid = np.append(grid, np.inf)  # L_gen(∞) sets the level of tau_mem
    curves, converged = _theory_curves(problem, grid)
    if throw:
        check_converged(converged, what="timescales", where=grid, throw=True,
                        remedy="try a grid with fewer extreme times")
    ct = curve_timescales(curves, thresholds=th)
    if not converged.all():
        notes = notes + ("some times of the asymptotic curves did not converge",)
    notes = notes + _short_grid_notes(spec, grid)
    status = max(spec.status, status_of(converged))
    tau_gen = {**tau_gen, "curve": ct.tau_gen}
    tau_mem = {**tau_mem, "curve": ct.tau_mem}
    definitions = (
        "spectral: tau_lambda = psi_p/(Delta_t lambda) (losses decay exactly as "
        "exp(-4 Delta_t lambda tau/psi_p)); tau_gen.spectral at the left edge of the "
        "generalisation bulk; tau_mem.spectral at the left edge of the memorisation bulk "
        "(the paper's tau_mem), tau_mem.onset at its right edge. curve: " + ct.definitions
        + "; tau_gen.curve = tau_gen, tau_mem.curve = tau_mem of the asymptotic curves.")
    return Timescales(tau_gen, tau_mem, parts, ct, definitions, notes, Status(status),
                      exponents)
