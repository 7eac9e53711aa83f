"""Plots of learning curves. Functions take an ``ax`` and never touch global state."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_curves", "plot_real_data", "new_figure"]

_STYLE = {
    "train_loss": ("L_train", "C0"),
    "test_loss": ("L_test", "C1"),
    "gen_loss": ("L_gen", "C2"),
    "score_error": ("E_score", "C3"),
}


def plot_curves(ax, curves, keys=("train_loss", "test_loss", "score_error"), *,
                marker=None, linestyle="-", label_suffix="", alpha=1.0):
    """Draw learning curves against τ on a log axis.

    Args:
        ax: a matplotlib Axes.
        curves: a :class:`rfdiff.Curves` or a dict with ``tau`` and the keys.
        keys: which curves to draw.
        marker, linestyle, label_suffix, alpha: styling (e.g. points for simulations).

    Returns:
        ``ax``.
    """
    data = curves._asdict() if hasattr(curves, "_asdict") else curves
    tau = np.asarray(data["tau"], dtype=float)
    finite = np.isfinite(tau) & (tau > 0)
    for key in keys:
        label, color = _STYLE[key]
        y = np.asarray(data[key], dtype=float)[finite]
        ax.plot(tau[finite], y, marker=marker, linestyle=linestyle, color=color,
                label=label + label_suffix, alpha=alpha)
    ax.set_xscale("log")
    ax.set_xlabel("training time τ = kη/d²")
    ax.legend(fontsize="small")
    return ax


def _as_dict(curves):
    return curves._asdict() if hasattr(curves, "_asdict") else curves


def plot_real_data(ax, theory, surrogate, real, *, real_error=None,
                   keys=("train_loss", "test_loss")):
    """Three sets of curves against τ: the theory, the Gaussian surrogate and real data.

    Args:
        ax: a matplotlib Axes.
        theory: the asymptotic curves (a :class:`rfdiff.Curves` or a dict with ``tau``
            and the keys), drawn as lines.
        surrogate: finite-size curves on Gaussian data with the data's spectrum (dashed).
        real: finite-size curves on the real data (points).
        real_error: optional dict ``{key: array}`` of the real curves' statistical error,
            drawn as a band ± error around them.
        keys: which curves to draw (one colour each).

    Returns:
        ``ax``.
    """
    sets = ((theory, {"linestyle": "-"}, " (theory d→∞)"),
            (surrogate, {"linestyle": "--"}, " (Gaussian surrogate)"),
            (real, {"linestyle": "none", "marker": "o", "markersize": 3.5}, " (real data)"))
    for curves, style, suffix in sets:
        data = _as_dict(curves)
        tau = np.asarray(data["tau"], dtype=float)
        finite = np.isfinite(tau) & (tau > 0)
        for key in keys:
            label, color = _STYLE[key]
            y = np.asarray(data[key], dtype=float)[finite]
            ax.plot(tau[finite], y, color=color, label=label + suffix, **style)
            if curves is real and real_error is not None and key in real_error:
                err = np.asarray(real_error[key], dtype=float)[finite]
                ax.fill_between(tau[finite], y - err, y + err, color=color, alpha=0.2,
                                lw=0)
    ax.set_xscale("log")
    ax.set_xlabel("training time τ = kη/d²")
    ax.legend(fontsize="x-small")
    return ax


def new_figure(nrows=1, ncols=1, size=(6.0, 4.0)):
    """A standalone Figure (no pyplot state) and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes
