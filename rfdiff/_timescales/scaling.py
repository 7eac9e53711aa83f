"""Scaling of τ_gen and τ_mem with ψ_n at fixed ψ_p, and the collapse of the curves.

The paper's Fig. 5A–B: τ_gen does not grow with n while τ_mem ∝ n, and L_gen, E_score
collapse when plotted against τ/τ_mem.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._common import Status, positive
from .._model import DataSpectrum, Problem, isotropic
from .grids import TIMESCALES_TAU
from .local import LOCAL_KEYS
from .timescales import _theory_curves, timescales

__all__ = ["ScalingReport", "scaling_report", "fit_power_law"]


def fit_power_law(x, y) -> tuple[float, float]:
    """Least-squares exponent of y ∝ x^α on log–log axes and its standard error.

    Args:
        x, y: positive arrays of equal length ≥ 2 (finite values only are used).

    Returns:
        ``(alpha, stderr)`` (stderr is ``nan`` with two points).

    Raises:
        ValueError: with fewer than two positive finite pairs.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        raise ValueError(f"need at least two positive finite points, got x={x!r}, y={y!r}")
    lx, ly = np.log(x[ok]), np.log(y[ok])
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    if ok.sum() == 2:
        return float(coef[0]), float("nan")
    sigma2 = float(np.sum((ly - A @ coef) ** 2)) / (ok.sum() - 2)
    return float(coef[0]), float(np.sqrt(sigma2 * np.linalg.inv(A.T @ A)[0, 0]))


@dataclasses.dataclass(frozen=True)
class ScalingReport:
    """Timescales across ψ_n at fixed ψ_p, their power-law fits and the collapse data.

    Attributes:
        psi_p: the fixed ψ_p.
        psi_n: (K,) the ψ_n values.
        tau_gen: dict of (K,) arrays: ``curve`` (argmin of E_score), ``reached``
            (E_score within the factor of its minimum), ``spectral``.
        tau_mem: dict of (K,) arrays: ``curve``, ``threshold``, ``score``, ``spectral``,
            ``onset``.
        exponents: ``{"tau_gen": {...}, "tau_mem": {...}}`` with ``(alpha, stderr)`` per key.
        local_exponents: ``{key: (K,) array}``, d log τ / d log ψ_n at each ψ_n for the
            keys of :data:`rfdiff._timescales.local.LOCAL_KEYS` (automatic
            differentiation; a fitted exponent is an average of these over the range).
        tau: the τ grid of the curves; gen_loss, score_error: (K, T) curves.
        definitions: text of the definitions.
        status: the worst :class:`rfdiff.Status` of the timescales.
    """

    psi_p: float
    psi_n: np.ndarray
    tau_gen: dict
    tau_mem: dict
    exponents: dict
    tau: np.ndarray
    gen_loss: np.ndarray
    score_error: np.ndarray
    definitions: str
    status: Status = Status.SUCCESSFUL
    local_exponents: dict | None = None

    def collapse(self, key: str = "curve"):
        """τ/τ_mem[key] for each ψ_n (shape (K, T)), to plot the collapsed curves."""
        return self.tau[None, :] / self.tau_mem[key][:, None]

    def as_dict(self) -> dict:
        """JSON-ready dict (without the curves)."""
        return {"psi_p": self.psi_p, "psi_n": self.psi_n.tolist(),
                "tau_gen": {k: v.tolist() for k, v in self.tau_gen.items()},
                "tau_mem": {k: v.tolist() for k, v in self.tau_mem.items()},
                "exponents": self.exponents, "definitions": self.definitions,
                "local_exponents": ({k: np.asarray(v).tolist()
                                     for k, v in self.local_exponents.items()}
                                    if self.local_exponents is not None else None)}


def scaling_report(psi_p: float = 64.0, psi_n=(4.0, 8.0, 16.0, 32.0), t: float = 0.1,
                   activation="tanh", spectrum: DataSpectrum | None = None,
                   tau=None, **thresholds) -> ScalingReport:
    """τ_gen and τ_mem of the asymptotic theory across ψ_n at fixed ψ_p, with fits.

    Args:
        psi_p: fixed ψ_p (> 0).
        psi_n: ψ_n values (> 0, at least two).
        t, activation, spectrum: the rest of the model (default isotropic data).
        tau: τ grid of the curves (default
            :data:`rfdiff._timescales.grids.TIMESCALES_TAU`, 181 log-spaced points in
            [1e-2, 1e7], and ∞).
        **thresholds: ``gen_factor``, ``gen_threshold``, ``mem_factor``, ``mem_fraction``
            of :func:`rfdiff.curve_timescales`, ``thresholds`` (a
            :class:`rfdiff.TimescaleDefinitions`) and ``throw``, passed to
            :func:`rfdiff.timescales`.

    Returns:
        :class:`ScalingReport`.

    Raises:
        ValueError: for invalid parameters (named with their value).
    """
    psi_p = positive("psi_p", psi_p)
    psi_n = np.asarray([positive("psi_n", v) for v in np.atleast_1d(psi_n)])
    if psi_n.size < 2:
        raise ValueError(f"psi_n needs at least two values, got {psi_n.tolist()!r}")
    spectrum = spectrum or isotropic()
    grid = np.append(TIMESCALES_TAU, np.inf) if tau is None else np.asarray(tau, float)
    gen = {k: [] for k in ("curve", "reached", "spectral")}
    mem = {k: [] for k in ("curve", "threshold", "score", "spectral", "onset")}
    gl, se = [], []
    local = {k: [] for k in LOCAL_KEYS}
    definitions, status = "", Status.SUCCESSFUL
    for pn in psi_n:
        problem = Problem(psi_p, float(pn), t, activation, spectrum)
        ts = timescales(problem, grid, **thresholds)
        gen["curve"].append(ts.tau_gen["curve"])
        gen["reached"].append(ts.curve.tau_gen_reached)
        gen["spectral"].append(ts.tau_gen["spectral"])
        mem["curve"].append(ts.tau_mem["curve"])
        mem["threshold"].append(ts.curve.tau_mem_threshold)
        mem["score"].append(ts.curve.tau_mem_score)
        mem["spectral"].append(ts.tau_mem["spectral"])
        mem["onset"].append(ts.tau_mem["onset"])
        for k in LOCAL_KEYS:
            local[k].append(ts.local_exponents[k])
        c, _ = _theory_curves(problem, grid)
        gl.append(c.gen_loss)
        se.append(c.score_error)
        definitions, status = ts.definitions, max(status, ts.status)
    gen = {k: np.asarray(v) for k, v in gen.items()}
    mem = {k: np.asarray(v) for k, v in mem.items()}
    exponents = {"tau_gen": {k: fit_power_law(psi_n, v) for k, v in gen.items()},
                 "tau_mem": {k: fit_power_law(psi_n, v) for k, v in mem.items()}}
    return ScalingReport(psi_p, psi_n, gen, mem, exponents, grid, np.asarray(gl),
                         np.asarray(se), definitions, Status(status),
                         {k: np.asarray(v) for k, v in local.items()})
