"""Plots of a validation by extrapolation. Functions take an ``ax`` and never touch global
state."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_validation"]

_LABELS = {"train_loss": "L_train", "test_loss": "L_test", "score_error": "E_score"}


def _curve_panel(ax, v, name):
    tau = np.asarray(v.tau, dtype=float)
    fin = np.isfinite(tau) & (tau > 0)
    th = np.asarray(v.theory[name], dtype=float)
    for k, (dk, row) in enumerate(zip(v.d, v.finite_mean(name))):
        ax.plot(tau[fin], (row[fin] - th[fin]) / np.abs(th[fin]), color=f"C{k}",
                alpha=0.7, label=f"d = {dk}")
    dev, unc = v.relative_deviation(name)
    ax.errorbar(tau[fin], dev[fin], yerr=unc[fin], color="k", marker="o", markersize=3,
                linestyle="none", label="extrapolated d → ∞")
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("training time τ = kη/d² (τ = ∞ not drawn)")
    ax.set_ylabel(f"relative deviation of {_LABELS[name]} from the theory")


def _w1_panel(ax, v):
    x = 1.0 / np.asarray(v.d, dtype=float)
    w1 = np.asarray(v.w1, dtype=float)
    for s in range(w1.shape[1]):
        ax.plot(x, w1[:, s], "o", color="C0", alpha=0.5,
                label="finite size (per seed)" if s == 0 else None)
    a, b, c = np.asarray(v.w1_fit.coefficients[0], dtype=float)
    xs = np.linspace(0.0, x.max(), 100)
    ax.plot(xs, a + b * xs + c * xs**2, color="k", label="fit")
    ax.errorbar([0.0], [a], yerr=[v.w1_fit.uncertainty[0]], color="k", marker="s",
                label="extrapolated d → ∞")
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.set_xlabel("1/d")
    ax.set_ylabel("W₁(spectrum of U, theory)")


def plot_validation(ax, validation, quantity: str = "test_loss"):
    """Draw one quantity of a validation by extrapolation.

    Args:
        ax: a matplotlib Axes.
        validation: a :class:`rfdiff.tools.Validation` (from :func:`rfdiff.validate`).
        quantity: ``train_loss``, ``test_loss`` or ``score_error`` (relative deviation
            from the theory against τ: one line per d, the extrapolation with its error
            bars), or ``w1`` (the spectrum's W₁ against 1/d with the fit).

    Returns:
        ``ax``.

    Raises:
        ValueError: for an unknown ``quantity``.
    """
    if quantity == "w1":
        _w1_panel(ax, validation)
    elif quantity in _LABELS:
        _curve_panel(ax, validation, quantity)
    else:
        raise ValueError(f"quantity must be one of {sorted(_LABELS) + ['w1']}, "
                         f"got {quantity!r}")
    p = validation.problem
    ax.set_title(f"ψp={p.psi_p:g}, ψn={p.psi_n:g}, t={p.t:g}, {p.activation.name}, "
                 f"{len(validation.seeds)} seed(s)", fontsize="small")
    ax.legend(fontsize="small")
    return ax
