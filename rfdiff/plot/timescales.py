"""Figures of the timescales (the paper's Fig. 5A–B). Functions take axes, no global state."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_scaling_curves", "plot_scaling_times"]


def plot_scaling_curves(ax, report, key: str = "score_error", inset: bool = True,
                        collapse_key: str = "curve"):
    """Curves for each ψ_n against τ, with an inset of the collapse against τ/τ_mem.

    Args:
        ax: matplotlib Axes.
        report: a :class:`rfdiff.ScalingReport`.
        key: ``"score_error"`` or ``"gen_loss"``.
        inset: draw the collapse inset.
        collapse_key: the τ_mem of the collapse (a key of ``report.tau_mem``).

    Returns:
        ``ax``.
    """
    data = getattr(report, key)
    tau = report.tau
    fin = np.isfinite(tau)
    colors = [f"C{i}" for i in range(len(report.psi_n))]
    for y, pn, col in zip(data, report.psi_n, colors):
        ax.plot(tau[fin], y[fin], color=col, label=f"ψn={pn:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("τ")
    ax.set_ylabel({"score_error": "E_score", "gen_loss": "L_gen"}[key])
    ax.legend(fontsize="small", loc="lower left")
    if inset:
        # raised so that the inset's own τ/τ_mem label stays above the main x axis
        ins = ax.inset_axes([0.62, 0.2, 0.35, 0.3])
        x = report.collapse(collapse_key)
        for y, xx, col in zip(data, x, colors):
            ins.plot(xx[fin], y[fin], color=col)
        ins.set_xscale("log")
        ins.set_yscale("log")
        ins.set_xlabel("τ/τ_mem", fontsize="x-small", labelpad=1)
        ins.tick_params(labelsize="xx-small")
    return ax


def plot_scaling_times(ax, report, keys=("curve", "spectral")):
    """τ_gen and τ_mem against ψ_n with the fitted exponents.

    Args:
        ax: matplotlib Axes.
        report: a :class:`rfdiff.ScalingReport`.
        keys: which definitions to draw (``curve`` and/or ``spectral``).

    Returns:
        ``ax``.
    """
    x = report.psi_n
    styles = [("tau_mem", "curve", "o-", "C3"), ("tau_mem", "spectral", "s--", "C1"),
              ("tau_gen", "curve", "o-", "C0"), ("tau_gen", "spectral", "s--", "C2")]
    for group, key, st, col in styles:
        if key not in keys:
            continue
        y = getattr(report, group)[key]
        alpha, err = report.exponents[group][key]
        ax.plot(x, y, st, color=col, label=f"{group} ({key}): ∝ ψn^{alpha:.2f}±{err:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ψn = n/d")
    ax.set_ylabel("τ")
    ax.legend(fontsize="x-small")
    return ax
