"""Plots of generation curves. Functions take an ``ax`` and never touch global state."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_memorisation", "plot_quality"]

_QUALITY_LABELS = {
    "gaussian_kl": "Gaussian KL to N(0, Σ)",
    "sliced_w2": "sliced W₂ to N(0, Σ)",
    "nn_train": "median NN distance to training set",
    "nn_test": "median NN distance to test set",
    "closer_to_train": "fraction closer to training than to test",
    "second_moment": "E‖x‖² / Tr Σ",
}


def _finite(curve, key):
    tau = np.asarray(curve.tau, dtype=float)
    y = np.asarray(curve.metrics[key], dtype=float)
    keep = np.isfinite(tau) & (tau > 0)
    return tau[keep], y[keep], keep


def plot_memorisation(ax, curves, *, level: float | None = None, loss_times: bool = True):
    """f_mem ± bootstrap error against training time, one line per training-set size.

    Args:
        ax: a matplotlib Axes.
        curves: :class:`rfdiff.GenerationCurve` objects (or a single one).
        level: draw the onset level as a horizontal line (None: no line).
        loss_times: mark each curve's loss-based time of smallest score error at the
            smallest diffusion time (dotted) and, where defined, the leading-order τ_mem
            onset (dash-dotted), in the curve's colour.

    Returns:
        ``ax``.
    """
    from matplotlib.lines import Line2D

    curves = [curves] if hasattr(curves, "metrics") else list(curves)
    for i, c in enumerate(curves):
        color = f"C{i}"
        tau, f, keep = _finite(c, "f_mem")
        err = np.asarray(c.metrics["f_mem_err"], dtype=float)[keep]
        ax.errorbar(tau, f, yerr=err, marker="o", markersize=3, capsize=2, color=color,
                    label=f"n = {c.n} (ψn = {c.psi_n:g})")
        if loss_times:
            ax.axvline(float(c.best_tau[0]), color=color, linestyle=":", linewidth=1)
            if c.theory_tau_mem:
                ax.axvline(float(c.theory_tau_mem[0]), color=color, linestyle="-.",
                           linewidth=1)
    handles = []
    if level is not None:
        ax.axhline(level, color="0.5", linewidth=0.8)
        handles.append(Line2D([], [], color="0.5", lw=0.8, label=f"onset level {level:g}"))
    if loss_times:
        handles.append(Line2D([], [], color="0.3", ls=":", lw=1,
                              label="τ of smallest score error (smallest t)"))
        if any(c.theory_tau_mem for c in curves):
            handles.append(Line2D([], [], color="0.3", ls="-.", lw=1,
                                  label="theory τ_mem onset (n > d)"))
    ax.set_xscale("log")
    ax.set_xlabel("training time τ = kη/d²")
    ax.set_ylabel("f_mem (ratio < 1/3)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(handles=ax.get_legend_handles_labels()[0] + handles, fontsize="small")
    return ax


def plot_quality(ax, curves, key: str = "gaussian_kl", *, references=("data", "empirical"),
                 mark_degradation: bool = True):
    """A sample-quality metric against training time, with reference levels.

    Args:
        ax: a matplotlib Axes.
        curves: :class:`rfdiff.GenerationCurve` objects (or a single one).
        key: ``gaussian_kl``, ``sliced_w2``, ``second_moment``, ``nn_train``,
            ``nn_test`` or ``closer_to_train``.
        references: which references to draw as horizontal lines (``data``: exact
            samples, dashed; ``exact``: the sampler with the exact score, dash-dotted;
            ``empirical``: the memorising score, dotted).
        mark_degradation: for ``gaussian_kl`` and ``sliced_w2``, mark each curve's
            half-way degradation time (:func:`rfdiff.tools.degradation_time`) with a star.

    Returns:
        ``ax``.

    Raises:
        ValueError: for an unknown key.
    """
    if key not in _QUALITY_LABELS:
        raise ValueError(f"key must be one of {tuple(_QUALITY_LABELS)}, got {key!r}")
    from matplotlib.lines import Line2D

    curves = [curves] if hasattr(curves, "metrics") else list(curves)
    styles = {"data": "--", "exact": "-.", "empirical": ":"}
    for i, c in enumerate(curves):
        color = f"C{i}"
        tau, y, _ = _finite(c, key)
        ax.plot(tau, y, marker="o", markersize=3, color=color, label=f"n = {c.n}")
        if mark_degradation and key in ("gaussian_kl", "sliced_w2"):
            t_deg = c.degradation(key)
            if np.isfinite(t_deg):
                allv = np.asarray(c.metrics[key], dtype=float)
                level = np.sqrt(np.min(y) * allv[-1])  # the half-way value in log
                ax.plot([t_deg], [level], marker="*", markersize=10, color=color,
                        markeredgecolor="k", linestyle="none")
        for name in references:
            if name in c.references:
                ax.axhline(c.references[name][key], color=color, linestyle=styles[name],
                           linewidth=0.8, alpha=0.7)
    ax.set_xscale("log")
    if key in ("gaussian_kl", "sliced_w2", "second_moment"):
        ax.set_yscale("log")
    ax.set_xlabel("training time τ = kη/d²")
    ax.set_ylabel(_QUALITY_LABELS[key])
    # one legend entry per line style, in words, instead of a style key in the title
    names = {"data": "exact samples of the data", "exact": "sampler with the exact score",
             "empirical": "sampler with the memorising score"}
    extra = [Line2D([], [], color="0.3", ls=styles[r], lw=0.8, label=names[r])
             for r in references]
    if mark_degradation and key in ("gaussian_kl", "sliced_w2"):
        extra.append(Line2D([], [], color="0.6", marker="*", ms=8, mec="k", ls="none",
                            label="half-way degradation"))
    ax.legend(handles=ax.get_legend_handles_labels()[0] + extra, fontsize="small")
    return ax
