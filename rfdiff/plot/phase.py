"""Phase-diagram figures. Functions take an ``ax`` and leave global matplotlib state alone."""

from __future__ import annotations

import numpy as np

from .._phase.maps import LABELS

__all__ = ["plot_phase_time", "plot_phase_size", "overlay_confirmation",
           "plot_phase_diffusion_time", "plot_timescale_ratio", "label_legend_handles"]

_COLORS = ("#d9d9d9", "#a6dba0", "#f4a582")  # not generalising, generalising, memorising


def _regions(ax, x, y, label):
    from matplotlib.colors import ListedColormap

    ax.pcolormesh(x, y, label, cmap=ListedColormap(_COLORS), vmin=-0.5, vmax=2.5,
                  shading="nearest")
    ax.set_xscale("log")
    ax.set_yscale("log")


def plot_phase_time(ax, pmap, annotate: bool = True):
    """Teaching figure: regions in the (ψ_n, τ) plane with τ_gen(ψ_n), τ_mem(ψ_n).

    Args:
        ax: matplotlib Axes.
        pmap: a :class:`rfdiff.PhaseMap` of kind ``"psi_n-tau"``.
        annotate: write the region names.

    Returns:
        ``ax``.
    """
    b = pmap.boundaries
    x, y = pmap.psi_n, pmap.y
    _regions(ax, x, y, pmap.label)
    ax.plot(x, b["boundary_tau_gen"], "k-", lw=2, label="τ_gen (theory)")
    mem = np.asarray(b["boundary_tau_mem"], float)
    ax.plot(x[np.isfinite(mem)], mem[np.isfinite(mem)], "r-", lw=2, label="τ_mem (theory)")
    ax.plot(x, b["boundary_tau_mem_leading"], "r--", lw=1, label="τ_mem ≈ ψn/(Δ v²)")
    ax.axvline(pmap.fixed, color="b", ls=":", label="ψn = ψp (n = p)")
    ax.set_ylim(y.min(), y.max())
    ax.set_xlabel("ψn = n/d")
    ax.set_ylabel("training time τ")
    ax.set_title(f"ψp = {pmap.fixed:g}, t = {pmap.problem.t:g}, {pmap.problem.activation.name}")
    if annotate:
        xm = np.sqrt(x.min() * x.max()) / 3
        gen = np.asarray(b["boundary_tau_gen"], float)
        ax.text(xm, np.sqrt(y.min() * np.nanmin(gen)), "not yet generalising", fontsize="small")
        fin = mem[np.isfinite(mem)]
        if fin.size:
            ax.text(xm, np.sqrt(np.nanmax(gen) * np.min(fin)), "generalising window\n(widens ∝ n)",
                    fontsize="small")
            ax.text(xm, np.sqrt(np.max(fin) * y.max()), "memorising", fontsize="small")
    ax.legend(fontsize="x-small", loc="lower right")
    return ax


def plot_phase_size(ax, pmap, show: str = "gen_loss"):
    """Heatmap over (ψ_n, ψ_p) at fixed τ with the boundary ψ_n*(ψ_p).

    Args:
        ax: matplotlib Axes.
        pmap: a :class:`rfdiff.PhaseMap` of kind ``"psi_n-psi_p"``.
        show: ``"gen_loss"``, ``"score_error"`` or ``"label"``.

    Returns:
        The artist of the heatmap (for a colour bar).
    """
    x, y = pmap.psi_n, pmap.y
    if show == "label":
        _regions(ax, x, y, pmap.label)
        art = None
    else:
        from matplotlib.colors import LogNorm

        data = np.maximum(getattr(pmap, show), 1e-6)
        art = ax.pcolormesh(x, y, data, norm=LogNorm(), shading="nearest", cmap="viridis")
        ax.set_xscale("log")
        ax.set_yscale("log")
    b = pmap.boundaries
    star = np.asarray(b["psi_n_star"], float)
    ok = np.isfinite(star)
    ax.plot(star[ok], y[ok], "w-" if show != "label" else "k-", lw=2, label="ψn*(ψp) (theory)")
    ax.plot(b["psi_n_star_leading"], y, "r--", lw=1, label="ψn* ≈ Δ v² τ")
    ax.plot(y, y, "b:", label="ψn = ψp")
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(y.min(), y.max())
    ax.set_xlabel("ψn = n/d")
    ax.set_ylabel("ψp = p/d")
    ax.set_title(f"τ = {pmap.fixed:g}: {show if show != 'label' else 'phases'}")
    ax.legend(fontsize="x-small", loc="upper right")
    return art


def overlay_confirmation(ax, pmap, rows=(), simulated=None, marker="o"):
    """Draw finite-size results on a phase-map axes.

    Args:
        ax: matplotlib Axes holding :func:`plot_phase_time` or :func:`plot_phase_size`.
        pmap: the :class:`rfdiff.PhaseMap` drawn there.
        rows: rows of :func:`rfdiff.tools.confirm_points`; each point is drawn in the colour of
            its simulated label, with a black edge where it agrees with the theory and a
            red cross where it does not.
        simulated: a dict of :func:`rfdiff.tools.simulated_time_boundaries` (``psi_n-tau``) or
            :func:`rfdiff.tools.simulated_size_boundary` (``psi_n-psi_p``), drawn as markers.
        marker: marker of the simulated boundaries.

    Returns:
        ``ax``.
    """
    time_map = pmap.kind == "psi_n-tau"
    for r in rows:
        x, y = r["psi_n"], (r["tau"] if time_map else r["psi_p"])
        ax.scatter([x], [y], s=30, color=_COLORS[LABELS.index(r["simulation"])],
                   edgecolors="k", linewidths=0.8, zorder=5)
        if not r["agree"]:
            ax.scatter([x], [y], s=60, marker="x", color="r", zorder=6)
    if simulated is not None:
        d = simulated.get("d", "?")
        if time_map:
            ax.plot(simulated["psi_n"], simulated["tau_gen"], "k" + marker, mfc="none",
                    label=f"τ_gen (d = {d})")
            mem = np.asarray(simulated["tau_mem"], float)
            ok = np.isfinite(mem)
            ax.plot(np.asarray(simulated["psi_n"])[ok], mem[ok], "r" + marker, mfc="none",
                    label=f"τ_mem (d = {d})")
        else:
            lo, hi = np.asarray(simulated["psi_n_lo"]), np.asarray(simulated["psi_n_hi"])
            ok = np.isfinite(lo)
            pp = np.asarray(simulated["psi_p"])[ok]
            ax.errorbar(np.sqrt(lo[ok] * hi[ok]), pp,
                        xerr=[np.sqrt(lo[ok] * hi[ok]) - lo[ok], hi[ok] - np.sqrt(lo[ok] * hi[ok])],
                        fmt="m" + marker, mfc="none", label=f"ψn* (d = {d})")
    ax.legend(fontsize="x-small", loc="lower right" if time_map else "upper right")
    return ax


def plot_phase_diffusion_time(ax, dep):
    """Regions in the (t, τ) plane with τ_gen(t), τ_mem(t) from the curves and the spectrum.

    Args:
        ax: matplotlib Axes.
        dep: a :class:`rfdiff.DiffusionTimeDependence`.

    Returns:
        ``ax``.
    """
    _regions(ax, dep.t, dep.tau, dep.label)
    ax.plot(dep.t, dep.tau_gen, "k-", lw=2, label="τ_gen (curves)")
    ax.plot(dep.t, dep.tau_gen_spectral, "k--", lw=1, label="τ_gen = ψp/(Δ λ_lo(ρ₂))")
    mem = np.where(np.isfinite(dep.tau_mem), dep.tau_mem, np.nan)
    ax.plot(dep.t, mem, "r-", lw=2, label="τ_mem (curves)")
    ax.plot(dep.t, dep.tau_mem_spectral, "r--", lw=1, label="τ_mem = ψp/(Δ λ_lo(ρ₁))")
    ax.set_ylim(dep.tau.min(), dep.tau.max())
    ax.set_xlabel("diffusion time t")
    ax.set_ylabel("training time τ")
    ax.set_title(f"ψp = {dep.psi_p:g}, ψn = {dep.psi_n:g}")
    ax.legend(fontsize="x-small", loc="upper right")
    return ax


def plot_timescale_ratio(ax, deps, spectral: bool = True):
    """τ_mem/τ_gen against t for several sizes, with a 1/t guide.

    Args:
        ax: matplotlib Axes.
        deps: list of :class:`rfdiff.DiffusionTimeDependence`.
        spectral: also draw the spectral ratio (dashed).

    Returns:
        ``ax``.
    """
    ref = None
    for k, dep in enumerate(deps):
        color = f"C{k}"
        name = f"ψp = {dep.psi_p:g}, ψn = {dep.psi_n:g}"
        ax.plot(dep.t, dep.ratio, "o-", color=color,
                label=f"{name}: curves (t^{dep.ratio_exponent:.2f})")
        if spectral:
            ax.plot(dep.t, dep.spectral_ratio, "s--", color=color, mfc="none",
                    label=f"{name}: spectrum (t^{dep.spectral_ratio_exponent:.2f})")
        ok = np.isfinite(dep.ratio)
        if ref is None and ok.any():
            ref = (dep.t[ok][0], dep.ratio[ok][0], dep.t)
    if ref is not None:
        t0, r0, t = ref
        ax.plot(t, r0 * t0 / t, "k:", label="∝ 1/t")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("diffusion time t")
    ax.set_ylabel("τ_mem / τ_gen")
    ax.legend(fontsize="x-small")
    return ax


def label_legend_handles():
    """Patches naming the three region colours (for a legend)."""
    from matplotlib.patches import Patch

    return [Patch(color=c, label=n.replace("_", " ")) for c, n in zip(_COLORS, LABELS)]
