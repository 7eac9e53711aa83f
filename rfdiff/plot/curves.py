"""Plots of learning curves. Functions take an ``ax`` and never touch global state."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_curves", "new_figure"]

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


def new_figure(nrows=1, ncols=1, size=(6.0, 4.0)):
    """A standalone Figure (no pyplot state) and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes
