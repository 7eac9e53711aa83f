"""How the phase diagram depends on the diffusion time t at which the score is trained.

At each t the generalisation and memorisation times are located on the asymptotic curves
(the phase boundaries of :func:`rfdiff.time_boundaries`) and on the spectrum (the paper's
spectral timescales). The paper notes τ_mem/τ_gen ~ 1/t when p ∼ n: τ_gen ∝ 1/Δ_t ≈ 1/(2t)
(set by the generalisation bulk), while at ψ_n ≈ ψ_p the memorisation bulk reaches down to
s_t², which itself vanishes with t, so τ_mem grows faster than 1/t.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from .._common import Status, positive
from .._model import Problem
from .._timescales import (DIFFUSION_TIME_TAU, PhaseThresholds, fit_power_law,
                           spectral_timescales)
from .evaluate import _check_thresholds
from .maps import phase_map_time

__all__ = ["DiffusionTimeDependence", "diffusion_time_dependence"]

#: the default label-map grid (kept under its former name)
DEFAULT_TAU = DIFFUSION_TIME_TAU


class DiffusionTimeDependence(NamedTuple):
    """Timescales and phases as functions of the diffusion time t (one (ψ_p, ψ_n)).

    Attributes:
        t: (K,) diffusion times.
        psi_p: ψ_p = p/d.
        psi_n: ψ_n = n/d.
        delta: (K,) Δ_t.
        v2: (K,) v_t².
        s2: (K,) s_t².
        tau_gen: (K,) τ_gen from the curves (phase boundary, ``tau_gen_reached``).
        tau_mem: (K,) τ_mem from the curves (``tau_mem_level``; ``inf``: never
            memorising).
        tau_gen_spectral: (K,) ψ_p/(Δ_t λ) at the left edge of ρ₂.
        tau_mem_spectral: (K,) ψ_p/(Δ_t λ) at the left edge of ρ₁ (``nan`` when absent).
        tau_mem_onset: (K,) ψ_p/(Δ_t λ) at the right edge of ρ₁ (``nan`` when absent).
        tau_mem_leading: (K,) ψ_n/(Δ_t v_t²).
        ratio: (K,) τ_mem/τ_gen from the curves.
        spectral_ratio: (K,) τ_mem/τ_gen from the spectrum.
        ratio_exponent: fitted exponent of ``ratio`` against t over ``fit_range`` (finite
            values only; ``nan`` with fewer than 2 points).
        spectral_ratio_exponent: the same for ``spectral_ratio``.
        fit_range: the (t_min, t_max) of the fits.
        tau: (T,) training times of the label map.
        label: (T, K) phase labels (indices into :data:`rfdiff.tools.LABELS`).
        thresholds: the :class:`PhaseThresholds`.
        status: the worst :class:`rfdiff.Status` of the maps and spectral timescales.
    """

    t: np.ndarray
    psi_p: float
    psi_n: float
    delta: np.ndarray
    v2: np.ndarray
    s2: np.ndarray
    tau_gen: np.ndarray
    tau_mem: np.ndarray
    tau_gen_spectral: np.ndarray
    tau_mem_spectral: np.ndarray
    tau_mem_onset: np.ndarray
    tau_mem_leading: np.ndarray
    ratio: np.ndarray
    spectral_ratio: np.ndarray
    ratio_exponent: float
    spectral_ratio_exponent: float
    fit_range: tuple
    tau: np.ndarray
    label: np.ndarray
    thresholds: PhaseThresholds
    status: Status = Status.SUCCESSFUL

    @property
    def tau_gen_reached(self) -> np.ndarray:
        """The field ``tau_gen``."""
        return self.tau_gen

    @property
    def tau_mem_level(self) -> np.ndarray:
        """The field ``tau_mem``."""
        return self.tau_mem

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        out = {}
        for k, v in self._asdict().items():
            if k == "thresholds":
                out["definitions"] = v.describe("phase")
            elif k == "status":
                out[k] = v.name.lower()
            elif isinstance(v, np.ndarray):
                out[k] = [x if np.isfinite(x) else str(x) for x in v.tolist()] if v.ndim == 1 \
                    else v.tolist()
            else:
                out[k] = list(v) if isinstance(v, tuple) else v
        return out


def _exponent(t, y, fit_range):
    sel = (t >= fit_range[0]) & (t <= fit_range[1])
    try:
        return fit_power_law(t[sel], y[sel])[0]  # uses the finite positive values
    except ValueError:  # fewer than two usable points
        return float("nan")


def diffusion_time_dependence(problem: Problem, t, tau=None, thresholds=PhaseThresholds(),
                              fit_range=(0.0, 0.1), *,
                              throw: bool = False) -> DiffusionTimeDependence:
    """Generalisation/memorisation times and phases over diffusion times t.

    Args:
        problem: template (ψ_p, ψ_n, activation, ρ_Σ; its t is replaced).
        t: diffusion times (> 0).
        tau: training times of the label map (default 10⁰…10⁷, 57 points).
        thresholds: :class:`PhaseThresholds`.
        fit_range: (t_min, t_max) over which the ratio exponents are fitted.
        throw: raise :class:`rfdiff.NotConvergedError` when a map or the spectral structure
            at some t did not converge (default: warn, values returned as computed).

    Returns:
        :class:`DiffusionTimeDependence`.

    Raises:
        ValueError: for t ≤ 0 or non-finite, a bad τ grid or thresholds.
        NotConvergedError: with ``throw=True``, see above.
    """
    th = _check_thresholds(thresholds)
    t = np.atleast_1d(np.asarray(t, float))
    for v in t:
        positive("t", v)
    tau = DEFAULT_TAU if tau is None else np.atleast_1d(np.asarray(tau, float))
    rows, labels, status = [], [], Status.SUCCESSFUL
    for tk in t:
        pr = dataclasses.replace(problem, t=float(tk))
        pm = phase_map_time(pr, np.array([problem.psi_n]), tau, th, throw=throw)
        b = pm.boundaries
        spec = spectral_timescales(pr, throw=throw)
        _, sg, sm, _ = spec
        status = max(status, pm.status, spec.status)
        c = pr.coefficients
        rows.append((pr.delta, float(c.v2), float(c.s2), b["boundary_tau_gen"][0],
                     b["boundary_tau_mem"][0], sg["spectral"], sm["spectral"], sm["onset"],
                     b["boundary_tau_mem_leading"][0]))
        labels.append(pm.label[:, 0])
    cols = [np.array(c, float) for c in zip(*rows)]
    delta, v2, s2, tg, tm, sg, sm, so, lead = cols
    ratio, sratio = tm / tg, sm / sg
    fr = (float(fit_range[0]), float(fit_range[1]))
    return DiffusionTimeDependence(
        t, float(problem.psi_p), float(problem.psi_n), delta, v2, s2, tg, tm, sg, sm, so, lead,
        ratio, sratio, _exponent(t, ratio, fr), _exponent(t, sratio, fr), fr, tau,
        np.stack(labels, 1), th, Status(status))
