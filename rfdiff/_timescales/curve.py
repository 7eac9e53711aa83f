"""Timescales read off learning curves (theory or simulation alike).

Definitions (names of :mod:`rfdiff._timescales.definitions`; thresholds from one
:class:`rfdiff.TimescaleDefinitions`, stated in every result):

- ``tau_gen`` (``tau_gen_argmin``): the training time of the minimum of E_score(τ), refined
  by a parabola in log τ through the smallest grid value and its neighbours;
- ``tau_gen_reached``: the first time E_score(τ) ≤ ``gen_factor`` × its minimum;
- ``tau_mem`` (``tau_mem_fraction``): the first time after ``tau_gen`` at which L_gen(τ)
  rises through ``mem_fraction`` × L_gen(∞) (L_gen(∞) from a τ = ∞ entry of the curves,
  else the last grid value). This relative definition follows the shift of the
  memorisation rise: in the limit at ψ_p = 1024, t = 0.1 it grows as ψ_n^{1.00} over
  ψ_n = 4…32 (fraction ½), whereas an absolute threshold also tracks the decreasing
  height of L_gen(∞) (exponent ≈ 1.7);
- ``tau_mem_threshold``: the first time after ``tau_gen`` at which L_gen(τ) rises through
  ``gen_threshold``;
- ``tau_mem_score``: the first time after ``tau_gen`` at which E_score(τ) rises through
  ``mem_factor`` × its minimum;
- ``tau_mem_level``: the first time after ``tau_gen`` at which L_gen(τ) ≥
  max(``mem_fraction`` × L_gen(∞), ``mem_threshold``): the grid reading of the phase
  diagram's τ_mem (:func:`rfdiff.time_boundaries` solves the same crossing on the theory).

Crossing times are interpolated linearly in log τ between grid points
(:func:`rfdiff._timescales.crossing.first_crossing`); a crossing that does not happen on
the grid is reported as ``inf`` (never reached).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .crossing import first_crossing
from .definitions import TimescaleDefinitions

__all__ = ["CurveTimescales", "curve_timescales"]


class CurveTimescales(NamedTuple):
    """Timescales of one set of learning curves (see the module docstring).

    Attributes:
        tau_gen, tau_gen_reached, tau_mem, tau_mem_threshold, tau_mem_score: the times
            (``inf`` if the crossing is not on the grid); ``tau_gen`` is also
            :attr:`tau_gen_argmin`, ``tau_mem`` is :attr:`tau_mem_fraction`.
        gen_loss_final: L_gen(∞) (or at the last grid time) used by ``tau_mem``.
        min_score_error: the minimum of E_score.
        definitions: text of the definitions with the thresholds used.
        tau_mem_level: the phase diagram's τ_mem read off the grid (``inf`` if not
            reached).
    """

    tau_gen: float
    tau_gen_reached: float
    tau_mem: float
    tau_mem_threshold: float
    tau_mem_score: float
    gen_loss_final: float
    min_score_error: float
    definitions: str
    tau_mem_level: float = float("nan")

    @property
    def tau_gen_argmin(self) -> float:
        """The argmin of E_score (the field ``tau_gen``)."""
        return self.tau_gen

    @property
    def tau_mem_fraction(self) -> float:
        """L_gen rising through mem_fraction × L_gen(∞) (the field ``tau_mem``)."""
        return self.tau_mem


def _argmin_refined(tau, score, k):
    """The argmin of E_score, refined by the vertex of a parabola in log τ."""
    if 0 < k < len(tau) - 1:
        x = np.log(tau[k - 1:k + 2])
        a, b, _ = np.polyfit(x, score[k - 1:k + 2], 2)
        if a > 0:
            return float(np.exp(np.clip(-b / (2 * a), x[0], x[2])))
    return float(tau[k])


def curve_timescales(curves, gen_factor: float | None = None,
                     gen_threshold: float | None = None, mem_factor: float | None = None,
                     mem_fraction: float | None = None, *,
                     thresholds: TimescaleDefinitions | None = None) -> CurveTimescales:
    """τ_gen and τ_mem of learning curves, with their definitions.

    Args:
        curves: a :class:`rfdiff.Curves` (or dict) on an increasing grid of finite τ > 0.
        gen_factor: E_score ≤ gen_factor × min defines ``tau_gen_reached`` (> 1).
        gen_threshold: L_gen ≥ gen_threshold defines ``tau_mem_threshold`` (> 0).
        mem_factor: E_score ≥ mem_factor × min after the minimum defines ``tau_mem_score``.
        mem_fraction: L_gen ≥ mem_fraction × L_gen(∞) defines ``tau_mem`` (in (0, 1)).
        thresholds: a :class:`rfdiff.TimescaleDefinitions` (default: its defaults, 2, 0.1,
            2, 0.5 for the four above and mem_threshold 0.25); the four thresholds above,
            when given, replace its values.

    Returns:
        :class:`CurveTimescales`.

    Raises:
        ValueError: for thresholds out of range or a grid that is not increasing and positive.
    """
    th = TimescaleDefinitions.of(thresholds, gen_factor=gen_factor,
                                 gen_threshold=gen_threshold, mem_factor=mem_factor,
                                 mem_fraction=mem_fraction)
    data = curves._asdict() if hasattr(curves, "_asdict") else curves
    tau = np.asarray(data["tau"], dtype=float)
    gen_all = np.asarray(data["gen_loss"], dtype=float)
    gen_final = float(gen_all[np.isinf(tau)][0]) if np.any(np.isinf(tau)) else None
    keep = np.isfinite(tau)
    tau = tau[keep]
    score = np.asarray(data["score_error"], dtype=float)[keep]
    gen = np.asarray(data["gen_loss"], dtype=float)[keep]
    if tau.size < 3 or np.any(tau <= 0) or np.any(np.diff(tau) <= 0):
        raise ValueError("curves.tau must be an increasing grid of at least 3 times > 0")
    k = int(np.argmin(score))
    smin = float(score[k])
    if gen_final is None:
        gen_final = float(gen[-1])

    def rise(y, level):  # strict: a curve already above the level must come back first
        return float(first_crossing(tau, y, level, start=k, strict=True))

    return CurveTimescales(
        _argmin_refined(tau, score, k),
        float(first_crossing(tau, score, th.generalisation_level(smin), direction="down")),
        rise(gen, th.mem_fraction * gen_final), rise(gen, th.gen_threshold),
        rise(score, th.mem_factor * smin), gen_final, smin, th.describe("curve"),
        float(first_crossing(tau, gen, th.memorisation_level(gen_final), start=k)))
