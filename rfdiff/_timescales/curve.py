"""Timescales read off learning curves (theory or simulation alike).

Definitions (stated in every result):

- ``tau_gen``: the training time of the minimum of E_score(τ), refined by a parabola in
  log τ through the smallest grid value and its neighbours;
- ``tau_gen_reached``: the first time E_score(τ) ≤ ``gen_factor`` × its minimum;
- ``tau_mem``: the first time after ``tau_gen`` at which L_gen(τ) ≥ ``mem_fraction`` ×
  L_gen(∞) (L_gen(∞) from a τ = ∞ entry of the curves, else the last grid value). This
  relative definition follows the shift of the memorisation rise: in the limit at
  ψ_p = 1024, t = 0.1 it grows as ψ_n^{1.00} over ψ_n = 4…32 (fraction ½), whereas an
  absolute threshold also tracks the decreasing height of L_gen(∞) (exponent ≈ 1.7);
- ``tau_mem_threshold``: the first time after ``tau_gen`` at which L_gen(τ) ≥
  ``gen_threshold``;
- ``tau_mem_score``: the first time after ``tau_gen`` at which E_score(τ) ≥
  ``mem_factor`` × its minimum.

Crossing times are interpolated linearly in log τ between grid points; a crossing that does
not happen on the grid is reported as ``inf`` (never reached) and flagged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._common.validation import positive

__all__ = ["CurveTimescales", "curve_timescales"]


class CurveTimescales(NamedTuple):
    """Timescales of one set of learning curves (see the module docstring).

    Attributes:
        tau_gen, tau_gen_reached, tau_mem, tau_mem_threshold, tau_mem_score: the times
            (``inf`` if the crossing is not on the grid).
        gen_loss_final: L_gen(∞) (or at the last grid time) used by ``tau_mem``.
        min_score_error: the minimum of E_score.
        definitions: text of the definitions with the thresholds used.
    """

    tau_gen: float
    tau_gen_reached: float
    tau_mem: float
    tau_mem_threshold: float
    tau_mem_score: float
    gen_loss_final: float
    min_score_error: float
    definitions: str


def _crossing(tau, y, level, start):
    """First τ ≥ tau[start] where y crosses ``level`` upwards (log-linear interpolation)."""
    for i in range(max(start, 1), len(tau)):
        if y[i] >= level > y[i - 1]:
            lt0, lt1 = np.log(tau[i - 1]), np.log(tau[i])
            w = (level - y[i - 1]) / (y[i] - y[i - 1])
            return float(np.exp(lt0 + w * (lt1 - lt0)))
    return float("inf")


def _downward(tau, y, level):
    for i in range(len(tau)):
        if y[i] <= level:
            if i == 0:
                return float(tau[0])
            lt0, lt1 = np.log(tau[i - 1]), np.log(tau[i])
            w = (y[i - 1] - level) / (y[i - 1] - y[i])
            return float(np.exp(lt0 + w * (lt1 - lt0)))
    return float("inf")


def curve_timescales(curves, gen_factor: float = 2.0, gen_threshold: float = 0.1,
                     mem_factor: float = 2.0, mem_fraction: float = 0.5) -> CurveTimescales:
    """τ_gen and τ_mem of learning curves, with their definitions.

    Args:
        curves: a :class:`rfdiff.Curves` (or dict) on an increasing grid of finite τ > 0.
        gen_factor: E_score ≤ gen_factor × min defines ``tau_gen_reached`` (> 1).
        gen_threshold: L_gen ≥ gen_threshold defines ``tau_mem_threshold`` (> 0).
        mem_fraction: L_gen ≥ mem_fraction × L_gen(∞) defines ``tau_mem`` (in (0, 1)).
        mem_factor: E_score ≥ mem_factor × min after the minimum defines ``tau_mem_score``.

    Returns:
        :class:`CurveTimescales`.

    Raises:
        ValueError: for thresholds out of range or a grid that is not increasing and positive.
    """
    gen_factor = positive("gen_factor", gen_factor)
    mem_factor = positive("mem_factor", mem_factor)
    gen_threshold = positive("gen_threshold", gen_threshold)
    if gen_factor <= 1 or mem_factor <= 1:
        raise ValueError(f"gen_factor and mem_factor must be > 1, got {gen_factor!r}, "
                         f"{mem_factor!r}")
    mem_fraction = positive("mem_fraction", mem_fraction)
    if mem_fraction >= 1:
        raise ValueError(f"mem_fraction must be < 1, got {mem_fraction!r}")
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
    tau_gen = float(tau[k])
    if 0 < k < len(tau) - 1:
        # parabola through three points in log τ: vertex = refined minimum
        x = np.log(tau[k - 1:k + 2])
        a, b, _ = np.polyfit(x, score[k - 1:k + 2], 2)
        if a > 0:
            tau_gen = float(np.exp(np.clip(-b / (2 * a), x[0], x[2])))
    smin = float(score[k])
    if gen_final is None:
        gen_final = float(gen[-1])
    definitions = (
        "tau_gen: argmin of E_score (log-parabolic refinement); "
        f"tau_gen_reached: first tau with E_score <= {gen_factor:g} x min; "
        f"tau_mem: first tau after tau_gen with L_gen >= {mem_fraction:g} x L_gen(inf); "
        f"tau_mem_threshold: first tau after tau_gen with L_gen >= {gen_threshold:g}; "
        f"tau_mem_score: first tau after tau_gen with E_score >= {mem_factor:g} x min; "
        "crossings interpolated in log tau, inf if not reached on the grid")
    return CurveTimescales(tau_gen, _downward(tau, score, gen_factor * smin),
                           _crossing(tau, gen, mem_fraction * gen_final, k),
                           _crossing(tau, gen, gen_threshold, k),
                           _crossing(tau, score, mem_factor * smin, k), gen_final, smin,
                           definitions)
