"""The main job: a folder with figures, tables and an index page (Markdown and HTML)."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import html
import json
import os
import platform
import sys
import time

import numpy as np

from .._finite.flow import gradient_flow, learning_curves
from .._finite.instance import finite_size_instance
from ..plot.curves import new_figure
from .._model.problem import Problem

__all__ = ["make_report"]


def _progress(msg, verbose):
    if verbose:
        print(f"[rfdiff report] {msg}", file=sys.stderr, flush=True)


def _versions():
    import jax
    import numpy
    import scipy

    from .._common.version import VERSION as __version__

    return {"rfdiff": __version__, "jax": jax.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "python": platform.python_version()}


_INSTANCES: dict = {}


def _instance(problem, d, seed):
    # sections of one report share the finite-size draws
    key = (problem, d, seed)
    if key not in _INSTANCES:
        _INSTANCES[key] = finite_size_instance(problem, d, seed=seed, method="exact")
    return _INSTANCES[key]


def _spectrum_section(problem, d, seeds, outdir, verbose):
    """Asymptotic spectrum of U with its parts, against the finite-size eigenvalues."""
    from ..plot.spectrum import spectrum_figure
    from .._spectrum.structure import spectral_structure, wasserstein1

    _progress("asymptotic spectrum and its parts", verbose)
    structure = spectral_structure(problem, d=d)
    eig = np.linalg.eigvalsh(_instance(problem, d, seeds[0]).U)
    fig = spectrum_figure(problem, structure, eigenvalues=eig)
    fig.savefig(os.path.join(outdir, "spectrum.png"), dpi=110)
    with open(os.path.join(outdir, "spectrum.json"), "w") as fh:
        json.dump({"parts": structure.as_dicts(), "notes": list(structure.notes)}, fh,
                  default=str)
    rows = [{"part": f"{p.kind}: {p.role}", "lo": p.lo, "hi": p.hi, "mass": p.mass,
             f"eigenvalues at d={d}": p.count if p.count is not None else float("nan")}
            for p in structure.parts]
    w1 = wasserstein1(problem, eig)
    return {"title": "Spectrum of U: theory and finite size", "figure": "spectrum.png",
            "text": (f"Parts found from the self-consistent equations (edges from the fold "
                     f"condition). Histogram: eigenvalues of the exact U at d = {d}, seed "
                     f"{seeds[0]}; Wasserstein-1 distance to the theory {w1:.3g}. "
                     + " ".join(structure.notes)),
            "rows": rows}


def _generation_section(problem, d, seeds, outdir, verbose):
    """Memorisation in generated samples against training time, at a small size."""
    from .._generation.study import generation_curve
    from ..plot.generation import plot_memorisation, plot_quality
    from .._generation.score_field import diffusion_times, score_field

    # a deliberately small study (d = 16, 12 diffusion times, 400 samples) keeps the
    # report fast; `rfdiff generate` and examples/memorisation_in_samples.py go further
    small = dataclasses.replace(problem, psi_n=0.5)
    _progress("score field over diffusion time and generation (d=16)", verbose)
    field = score_field(small, 16, diffusion_times(count=12), seed=seeds[0])
    curve = generation_curve(field, np.append(np.logspace(1, 7, 7), np.inf), n_samples=400,
                             bootstrap=200)
    fig, axes = new_figure(1, 2, size=(5.5, 4))
    plot_memorisation(axes[0, 0], [curve], level=0.1)
    plot_quality(axes[0, 1], [curve])
    fig.savefig(os.path.join(outdir, "generation.png"), dpi=110)
    rows = [{"tau": float(t), "f_mem": float(f), "f_mem_err": float(e),
             "gaussian_kl": float(k)}
            for t, f, e, k in zip(curve.tau, curve.metrics["f_mem"], curve.metrics["f_mem_err"],
                                  curve.metrics["gaussian_kl"])]
    return {"title": "Memorisation in generated samples",
            "figure": "generation.png",
            "text": (f"d = 16, p = {curve.p}, n = {curve.n}: one score per diffusion time "
                     f"(12 times, closed-form flow), reverse-time SDE, 400 samples per τ; "
                     f"f_mem = fraction of samples with nearest/second-nearest training "
                     f"distance ratio < 1/3 (bootstrap error)."),
            "rows": rows}


def _curves_section(problem, d, seeds, outdir, verbose):
    """Learning curves: the d → ∞ theory with finite-size simulations for several seeds."""
    from .._theory.curves import asymptotic_curves
    from ..plot.curves import plot_curves as _plot

    tau = np.concatenate([np.logspace(-1, 5, 121), [np.inf]])
    _progress("asymptotic learning curves", verbose)
    theory = asymptotic_curves(problem, tau).curves
    sims = []
    for seed in seeds:
        _progress(f"exact matrices and gradient flow at d={d}, seed={seed}", verbose)
        sims.append(learning_curves(gradient_flow(_instance(problem, d, seed)), tau))
    fig, axes = new_figure(1, 2)
    _plot(axes[0, 0], theory, ("train_loss", "test_loss"), label_suffix=" (d→∞)")
    _plot(axes[0, 1], theory, ("score_error", "gen_loss"), label_suffix=" (d→∞)")
    for i, c in enumerate(sims):
        _plot(axes[0, 0], c, ("train_loss", "test_loss"), marker=".", linestyle="none",
              alpha=0.5, label_suffix=f" (d={d}, seed {seeds[i]})")
        _plot(axes[0, 1], c, ("score_error", "gen_loss"), marker=".", linestyle="none",
              alpha=0.5, label_suffix=f" (d={d}, seed {seeds[i]})")
    axes[0, 1].set_yscale("log")
    axes[0, 1].set_ylim(bottom=1e-4)
    axes[0, 0].set_title("losses: theory (lines), simulation (points)")
    axes[0, 1].set_title("score error and generalisation loss")
    fig.savefig(os.path.join(outdir, "learning_curves.png"), dpi=110)
    with open(os.path.join(outdir, "learning_curves.json"), "w") as fh:
        json.dump({"theory": theory.as_dict(), "seeds": list(seeds),
                   "simulation": [x.as_dict() for x in sims]}, fh, default=str)
    rows = []
    k = int(np.argmin(theory.score_error[:-1]))
    for target in (1.0, 10.0, float(tau[k]), 1e3, 1e4, np.inf):
        i = len(tau) - 1 if np.isinf(target) else int(np.argmin(np.abs(tau - target)))
        row = {"tau": float(tau[i])}
        for key in ("train_loss", "test_loss", "score_error"):
            row[f"{key} (theory)"] = float(getattr(theory, key)[i])
            row[f"{key} (d={d})"] = float(np.mean([getattr(c, key)[i] for c in sims]))
        rows.append(row)
    dev = max(float(np.max(np.abs(getattr(c, key)[:-1] / getattr(theory, key)[:-1] - 1)))
              for c in sims for key in ("train_loss", "test_loss"))
    return {"title": "Learning curves: theory and finite-size simulation",
            "figure": "learning_curves.png",
            "text": (f"d = {d}, p = {problem.sizes(d)[0]}, n = {problem.sizes(d)[1]}; gradient "
                     f"flow in the training time τ = kη/d² from A(0) = 0. The asymptotic E_score "
                     f"is smallest at τ ≈ {tau[k]:.3g} (E_score = {theory.score_error[k]:.3g}). "
                     f"Largest relative deviation of the simulated L_train, L_test from the "
                     f"theory over τ: {dev:.2%}."),
            "rows": rows}


def _timescales_section(problem, d, seeds, outdir, verbose):
    """Spectral and curve timescales, and their scaling with ψ_n at fixed ψ_p."""
    from ..plot.timescales import plot_scaling_curves, plot_scaling_times
    from .._timescales.scaling import scaling_report

    _progress("timescales and their scaling with psi_n", verbose)
    # the scaling needs ψp well above ψn: the paper's Fig. 5 setting ψp = 64 at least
    psi_p = max(problem.psi_p, 64.0)
    psi_n = tuple(psi_p / 16 * f for f in (1.0, 2.0, 4.0, 8.0))
    rep = scaling_report(psi_p, psi_n, problem.t, problem.activation, problem.spectrum,
                         tau=np.append(np.logspace(-1, 7, 97), np.inf))
    fig, axes = new_figure(1, 3, size=(5, 4))
    plot_scaling_curves(axes[0, 0], rep, "score_error")
    plot_scaling_curves(axes[0, 1], rep, "gen_loss")
    plot_scaling_times(axes[0, 2], rep)
    fig.savefig(os.path.join(outdir, "timescales.png"), dpi=110)
    with open(os.path.join(outdir, "timescales.json"), "w") as fh:
        json.dump(rep.as_dict(), fh, default=str)
    rows = []
    for i, pn in enumerate(rep.psi_n):
        rows.append({"psi_n": float(pn), "tau_gen (curve)": float(rep.tau_gen["curve"][i]),
                     "tau_gen (spectral)": float(rep.tau_gen["spectral"][i]),
                     "tau_mem (curve)": float(rep.tau_mem["curve"][i]),
                     "tau_mem (spectral)": float(rep.tau_mem["spectral"][i]),
                     "tau_mem (onset)": float(rep.tau_mem["onset"][i])})
    fits = "; ".join(f"{g}.{k} ∝ ψn^{a:.2f}±{e:.2f}" for g in ("tau_gen", "tau_mem")
                     for k, (a, e) in rep.exponents[g].items() if k in ("curve", "spectral"))
    return {"title": f"Timescales across ψn at ψp = {psi_p:g}",
            "figure": "timescales.png",
            "text": f"Power-law fits: {fits}. Definitions: {rep.definitions}",
            "rows": rows}


def _phase_section(problem, d, seeds, outdir, verbose):
    """The (ψ_n, τ) phase diagram at the problem's ψ_p."""
    from .._phase.maps import phase_map_time
    from ..plot.phase import label_legend_handles, plot_phase_time

    _progress("phase diagram over (psi_n, tau)", verbose)
    pm = phase_map_time(problem, np.logspace(-0.5, np.log10(problem.psi_p * 8), 20),
                        np.logspace(0, 6, 25), progress=verbose)
    fig, axes = new_figure(1, 1, size=(7, 5))
    plot_phase_time(axes[0, 0], pm)
    fig.legend(handles=label_legend_handles(), loc="outside lower center", ncols=3,
               fontsize="x-small")
    fig.savefig(os.path.join(outdir, "phase_diagram.png"), dpi=110)
    with open(os.path.join(outdir, "phase_diagram.json"), "w") as fh:
        json.dump(pm.as_dict(), fh, default=str)
    b = pm.boundaries
    rows = [{"psi_n": float(x), "tau_gen": float(g), "tau_mem": float(m),
             "tau_mem (leading order)": float(lo)}
            for x, g, m, lo in zip(pm.psi_n[::4], b["boundary_tau_gen"][::4],
                                   b["boundary_tau_mem"][::4],
                                   b["boundary_tau_mem_leading"][::4])]
    return {"title": f"Phase diagram at ψp = {problem.psi_p:g}", "figure": "phase_diagram.png",
            "text": pm.thresholds.describe(), "rows": rows}


def _fmt(value):
    return f"{value:.4g}" if isinstance(value, int | float | np.number) else str(value)


def _table_md(rows):
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r[k]) for k in keys) + " |")
    return "\n".join(lines)


def _table_html(rows):
    keys = list(rows[0])
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r[k]))}</td>" for k in keys)
                   + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def make_report(outdir="rfdiff-report", problem: Problem | None = None, d: int = 100,
                seeds=(0, 1), sections=None, verbose: bool = True) -> dict:
    """Run the default study and write figures, tables and an index page to ``outdir``.

    Args:
        outdir: output folder (created).
        problem: model (default ψ_p = 16, ψ_n = 4, t = 0.1, tanh, isotropic).
        d: dimension of the finite-size runs.
        seeds: seeds of the finite-size draws.
        sections: the sections, callables ``(problem, d, seeds, outdir, verbose) -> dict``
            with keys ``title``, ``figure`` (file name or None), ``text``, ``rows``
            (default :func:`default_sections`).
        verbose: print progress on stderr.

    Returns:
        A summary dict (also written to ``outdir/summary.json``).
    """
    problem = problem or Problem(16, 4, 0.1, "tanh")
    os.makedirs(outdir, exist_ok=True)
    start = time.perf_counter()
    blocks = []
    try:
        for section in (sections if sections is not None else default_sections()):
            blocks.append(section(problem, d, tuple(seeds), outdir, verbose))
    finally:
        _INSTANCES.clear()  # the shared draws live for one report only
    summary = {b["title"]: b["text"] for b in blocks}
    elapsed = time.perf_counter() - start
    meta = {"parameters": {**problem.params(), "d": d, "seeds": list(seeds)},
            "versions": _versions(), "run_time_s": elapsed,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "summary": summary}
    _write_index(outdir, blocks, meta)
    with open(os.path.join(outdir, "summary.json"), "w") as fh:
        json.dump(meta, fh, indent=2)
    _progress(f"done in {elapsed:.1f} s: {os.path.join(outdir, 'index.html')}", verbose)
    return meta


def _write_index(outdir, blocks, meta):
    md = ["# rfdiff report", "", "## Parameters", "",
          "```json", json.dumps(meta["parameters"], indent=1), "```", "",
          f"Versions: {json.dumps(meta['versions'])}  ", f"Run time: {meta['run_time_s']:.1f} s  ",
          f"Date: {meta['date']}", ""]
    parts = [f"<h1>rfdiff report</h1><h2>Parameters</h2><pre>"
             f"{html.escape(json.dumps(meta['parameters'], indent=1))}</pre>"
             f"<p>Versions: {html.escape(json.dumps(meta['versions']))}<br>"
             f"Run time: {meta['run_time_s']:.1f} s<br>Date: {meta['date']}</p>"]
    for b in blocks:
        md += [f"## {b['title']}", "", b["text"], ""]
        parts.append(f"<h2>{html.escape(b['title'])}</h2><p>{html.escape(b['text'])}</p>")
        if b.get("figure"):
            md += [f"![{b['title']}]({b['figure']})", ""]
            with open(os.path.join(outdir, b["figure"]), "rb") as fh:
                data = base64.b64encode(fh.read()).decode()
            parts.append(f'<img alt="{html.escape(b["title"])}" '
                         f'src="data:image/png;base64,{data}" style="max-width:100%">')
        if b.get("rows"):
            md += [_table_md(b["rows"]), ""]
            parts.append(_table_html(b["rows"]))
    with open(os.path.join(outdir, "index.md"), "w") as fh:
        fh.write("\n".join(md))
    style = ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}")
    with open(os.path.join(outdir, "index.html"), "w") as fh:
        fh.write(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>rfdiff report"
                 f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")


def default_sections():
    """The sections of the default report, in order."""
    return [_spectrum_section, _curves_section, _timescales_section, _phase_section,
            _generation_section]
