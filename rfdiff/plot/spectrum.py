"""Figures of the asymptotic spectrum of U (matplotlib, no global pyplot state).

Every function draws on an ``ax`` it is given, or builds its own
:class:`matplotlib.figure.Figure`; nothing touches pyplot or rcParams.
"""

from __future__ import annotations

import numpy as np

from .._spectrum.leading_order import (generalisation_density, memorisation_density)
from .._model.problem import Problem
from .._theory.resolvent import ResolventParams, solve_on_grid
from .._spectrum.structure import SpectralStructure, spectral_structure
from .._common.validation import positive_int

__all__ = ["plot_density", "plot_parts", "spectrum_figure", "part_counts", "assign_by_counts"]

_COLORS = {"s2_atom": "tab:gray", "d_component": "tab:purple", "memorisation": "tab:red",
           "feature_only": "tab:olive", "generalisation": "tab:blue", "outlier": "tab:brown"}


def _color(role: str) -> str:
    for key, color in _COLORS.items():
        if role.startswith(key):
            return color
    return "tab:green"


def plot_density(ax, lam, density, **kwargs):
    """Draw a density curve ρ(λ) on ``ax``.

    Args:
        ax: a matplotlib Axes.
        lam, density: arrays of equal length.
        **kwargs: passed to ``ax.plot``.

    Returns:
        The list of Line2D objects.
    """
    kwargs.setdefault("color", "black")
    kwargs.setdefault("lw", 1.2)
    return ax.plot(np.asarray(lam), np.asarray(density), **kwargs)


def plot_parts(ax, structure: SpectralStructure, *, annotate: bool = True):
    """Shade the bulks and mark the atoms of a structure on ``ax``.

    Args:
        ax: a matplotlib Axes.
        structure: :class:`SpectralStructure`.
        annotate: write role and mass next to each part.
    """
    for part in structure.parts:
        color = _color(part.role)
        if part.kind == "bulk":
            ax.axvspan(part.lo, part.hi, color=color, alpha=0.08, lw=0)
        else:
            ax.axvline(part.lo, color=color, ls="--", lw=1)
        if annotate:
            label = f"{part.role}\nmass {part.mass:.4g}"
            ax.annotate(label, xy=(part.lo, 1.0), xycoords=("data", "axes fraction"),
                        fontsize=6, color=color, va="top", ha="left", rotation=0)


def part_counts(structure: SpectralStructure, p: int) -> list[int]:
    """Eigenvalue count of every part, in the order of ``structure.parts``.

    The predicted count where the structure has one, else round(mass · p) (an
    unidentified part of a general data spectrum); the largest part absorbs the rounding
    so that the counts add up to p.

    Args:
        structure: :class:`SpectralStructure`.
        p: number of eigenvalues.

    Returns:
        A list of non-negative integers summing to p.

    Raises:
        ValueError: if ``p`` is not a positive integer.
    """
    p = positive_int("p", p)
    # the outlier of a non-odd activation holds one eigenvalue but mass 0 per p
    counts = [q.count if q.count is not None
              else 1 if q.role == "outlier" else round(q.mass * p)
              for q in structure.parts]
    if counts:
        big = int(np.argmax(counts))
        counts[big] = max(0, counts[big] + p - sum(counts))
    return counts


def assign_by_counts(eigenvalues, structure: SpectralStructure, counts=None) -> list:
    """Split the eigenvalues among the parts by counts, lowest λ first.

    At finite d a part's eigenvalues need not lie inside its asymptotic edges (the s_t²
    atom spreads into the window of the d-component above it); sorting the eigenvalues
    and handing each part, taken in increasing λ, its count of them assigns every
    eigenvalue to the part the theory predicts for it.

    Args:
        eigenvalues: eigenvalues of a finite-size U.
        structure: :class:`SpectralStructure`.
        counts: one count per part of ``structure.parts`` (default :func:`part_counts`).

    Returns:
        One sorted array per part of ``structure.parts`` (same order), or None when the
        counts do not add up to the number of eigenvalues.
    """
    ev = np.sort(np.asarray(eigenvalues, float).ravel())
    counts = part_counts(structure, ev.size) if counts is None else list(counts)
    if sum(counts) != ev.size:
        return None
    order = sorted(range(len(structure.parts)),
                   key=lambda i: (structure.parts[i].lo, structure.parts[i].kind != "atom"))
    out, start = [None] * len(order), 0
    for i in order:
        out[i] = ev[start:start + counts[i]]
        start += counts[i]
    return out


def _panel_grid(part, points):
    """λ grid covering one bulk with a 5 % margin, clustered at the edges."""
    width = part.hi - part.lo
    theta = np.linspace(0.0, np.pi, points)
    inside = part.lo + 0.5 * width * (1 - np.cos(theta))
    margin = np.linspace(0.0, 0.05 * width, 8)[1:]
    return np.concatenate([part.lo - margin[::-1], inside, part.hi + margin])


def spectrum_figure(problem, structure: SpectralStructure | None = None, *,
                    eigenvalues=None, p: int | None = None, points: int = 400,
                    leading_order: bool = True, figsize=None):
    """One figure with an overview (log λ axis) and one panel per bulk.

    Each bulk panel shows the asymptotic density; optionally the histogram of the
    eigenvalues of a finite-size U (normalised per p, so that it compares with ρ) and
    the leading-order ρ₁/ρ₂ formulas. Atoms are marked with their mass.

    Args:
        problem: a :class:`Problem` (or :class:`ResolventParams`, without leading order).
        structure: the structure (computed here if None).
        eigenvalues: eigenvalues of a finite-size U (optional).
        p: number of eigenvalues of that U (default ``len(eigenvalues)``).
        points: density points per panel.
        leading_order: overlay the leading-order densities (Problem only).
        figsize: matplotlib figure size (default 3.6 × (1 + number of bulks) by 3.4).

    Returns:
        A :class:`matplotlib.figure.Figure` with 1 + (number of bulks) axes in one row;
        pyplot is not used.

    Raises:
        ValueError: if ``problem`` is neither a :class:`Problem` nor
            :class:`ResolventParams` (invalid ResolventParams values are reported by
            :func:`rfdiff.spectral_structure` / :func:`rfdiff.core.solve_on_grid` when the
            spectrum is solved here), ``structure`` is not a :class:`SpectralStructure`,
            ``eigenvalues`` are not finite, or ``p`` or ``points`` is not a positive
            integer, naming the argument and the value.
        ImportError: if matplotlib is not installed.
    """
    from matplotlib.figure import Figure

    if not isinstance(problem, Problem | ResolventParams):
        raise ValueError(f"problem must be a rfdiff.Problem or ResolventParams, got {problem!r}")
    if structure is not None and not isinstance(structure, SpectralStructure):
        raise ValueError(f"structure must be a rfdiff.SpectralStructure, got {structure!r}")
    points = positive_int("points", points)
    if p is not None:
        p = positive_int("p", p)
    if eigenvalues is not None:
        eigenvalues = np.asarray(eigenvalues, float)
        if not np.all(np.isfinite(eigenvalues)):
            raise ValueError(f"eigenvalues must be finite, got {eigenvalues!r}")
    if structure is None:
        structure = spectral_structure(problem)
    bulks = structure.bulks
    grids = [_panel_grid(b, points) for b in bulks]
    sol = solve_on_grid(problem, np.concatenate(grids)) if grids else None
    dens = np.split(sol.density, np.cumsum([g.size for g in grids])[:-1]) if grids else []
    ev = None if eigenvalues is None else np.sort(np.asarray(eigenvalues, float).ravel())
    p = p or (ev.size if ev is not None else None)

    ncols = 1 + len(bulks)
    fig = Figure(figsize=figsize or (3.6 * ncols, 3.4), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    _overview(axes[0], structure, grids, dens, ev, p)
    assigned = None if ev is None else assign_by_counts(ev, structure)
    for ax, part, g, d in zip(axes[1:], bulks, grids, dens):
        if ev is not None:
            _finite_size_histogram(ax, structure, part, g, ev, p, assigned)
        plot_density(ax, g, d, label="asymptotic")
        if leading_order and isinstance(problem, Problem):
            _leading_order_overlay(ax, problem, part, g)
        ax.set_title(f"{part.role}\n[{part.lo:.4g}, {part.hi:.4g}], mass {part.mass:.4g}",
                     fontsize=8)
        ax.set_xlabel("λ")
        ax.legend(fontsize=6)
    axes[0].set_ylabel("density per p")
    return fig


def _finite_size_histogram(ax, structure, part, grid, ev, p, assigned):
    """The eigenvalues in one bulk's window, split by the part they are assigned to."""
    lo, hi = grid[0], grid[-1]
    window = ev[(ev >= lo) & (ev <= hi)]
    if not window.size:
        return
    bins = max(10, min(60, int(np.sqrt(window.size) * 3)))
    edges = np.linspace(lo, hi, bins + 1)
    if assigned is None:  # no counts: every eigenvalue of the window
        counts, _ = np.histogram(window, bins=edges)
        ax.stairs(counts / (p * np.diff(edges)), edges, color="tab:orange", fill=True,
                  alpha=0.4, label=f"finite size ({window.size} eig. in window)")
        return
    k = structure.parts.index(part)
    own = assigned[k]
    counts, _ = np.histogram(own, bins=edges)
    ax.stairs(counts / (p * np.diff(edges)), edges, color="tab:orange", fill=True, alpha=0.4,
              label=f"finite size: its {own.size} eig. (by count)")
    base = counts.astype(float)
    for j, other in enumerate(structure.parts):
        inside = assigned[j][(assigned[j] >= lo) & (assigned[j] <= hi)] if j != k else ()
        if len(inside):
            extra, _ = np.histogram(inside, bins=edges)
            # stacked above the part's own eigenvalues, in the other part's colour
            ax.stairs((base + extra) / (p * np.diff(edges)), edges,
                      baseline=base / (p * np.diff(edges)), color=_color(other.role),
                      fill=True, alpha=0.3, hatch="//",
                      label=f"{other.role} eig. spread here ({inside.size})")
            base = base + extra


def _overview(ax, structure, grids, dens, ev, p):
    """All parts on one log-λ axis, with each bulk's density scaled to its peak."""
    for part, g, d in zip(structure.bulks, grids, dens):
        keep = g > 0
        peak = max(np.max(d), 1e-300)
        ax.plot(g[keep], d[keep] / peak, color=_color(part.role), lw=1.2,
                label=f"{part.role} (÷{peak:.3g})")
    for part in structure.atoms:
        if part.lo > 0:
            ax.axvline(part.lo, color=_color(part.role), ls="--", lw=1,
                       label=f"{part.role} atom, mass {part.mass:.3g}")
    if ev is not None:
        pos = ev[ev > 0]
        if pos.size:
            ax.plot(pos, np.full(pos.size, -0.05), "|", color="tab:orange", ms=6,
                    label="finite-size eigenvalues")
    ax.set_xscale("log")
    ax.set_xlabel("λ (log scale)")
    ax.set_title("all parts (densities scaled to 1)", fontsize=8)
    ax.legend(fontsize=5)


def _leading_order_overlay(ax, problem, part, grid):
    roles = part.role.split("+")
    if "memorisation" in roles and problem.psi_n > 1:
        ax.plot(grid, memorisation_density(problem, grid), ls=":", color="tab:red",
                label="leading order ρ₁")
    if "generalisation" in roles and part.fragment is None:
        ax.plot(grid, generalisation_density(problem, grid), ls=":", color="tab:blue",
                label="leading order ρ₂")
