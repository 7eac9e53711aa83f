"""The main job: a folder with figures, tables and an index page (Markdown and HTML)."""

from __future__ import annotations

import base64
import datetime
import html
import json
import os
import platform
import sys
import time

import numpy as np

from ._flow import gradient_flow, learning_curves
from ._instance import finite_size_instance
from ._plot_curves import new_figure, plot_curves
from ._problem import Problem

__all__ = ["make_report"]


def _progress(msg, verbose):
    if verbose:
        print(f"[rfdiff report] {msg}", file=sys.stderr, flush=True)


def _versions():
    import jax
    import numpy
    import scipy

    from . import __version__

    return {"rfdiff": __version__, "jax": jax.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "python": platform.python_version()}


def _curves_section(problem, d, seeds, outdir, verbose):
    """Finite-size learning curves for several seeds: figure, table and summary."""
    tau = np.concatenate([np.logspace(-1, 5, 121), [np.inf]])
    rows, all_curves = [], []
    for seed in seeds:
        _progress(f"exact matrices at d={d}, seed={seed}", verbose)
        inst = finite_size_instance(problem, d, seed=seed, method="exact")
        _progress("gradient flow and learning curves", verbose)
        all_curves.append(learning_curves(gradient_flow(inst), tau))
    fig, axes = new_figure(1, 2)
    for i, c in enumerate(all_curves):
        plot_curves(axes[0, 0], c, ("train_loss", "test_loss"), alpha=1.0 if i == 0 else 0.4,
                    label_suffix=f" (seed {seeds[i]})")
        plot_curves(axes[0, 1], c, ("score_error",), alpha=1.0 if i == 0 else 0.4,
                    label_suffix=f" (seed {seeds[i]})")
    axes[0, 1].set_yscale("log")
    axes[0, 0].set_title("losses")
    axes[0, 1].set_title("score error")
    fig.savefig(os.path.join(outdir, "learning_curves.png"), dpi=110)
    c = all_curves[0]
    k = int(np.argmin(c.score_error))
    for target in (1.0, 10.0, float(tau[k]), 1e3, 1e4, np.inf):
        i = len(tau) - 1 if np.isinf(target) else int(np.argmin(np.abs(tau - target)))
        rows.append({"tau": float(tau[i]), **{key: float(getattr(c, key)[i]) for key in
                     ("train_loss", "test_loss", "gen_loss", "score_error")}})
    with open(os.path.join(outdir, "learning_curves.json"), "w") as fh:
        json.dump({"seeds": list(seeds), "curves": [x.as_dict() for x in all_curves]}, fh,
                  default=lambda o: str(o))
    summary = {"tau_min_score_error": float(tau[k]), "min_score_error": float(c.score_error[k])}
    return rows, summary


def _table_md(rows):
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[k]:.4g}" for k in keys) + " |")
    return "\n".join(lines)


def _table_html(rows):
    keys = list(rows[0])
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{r[k]:.4g}</td>" for k in keys) + "</tr>"
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
        sections: extra sections, callables ``(problem, d, outdir, verbose) -> dict`` with
            keys ``title``, ``figure`` (file name or None), ``text`` (Markdown), ``rows``.
        verbose: print progress on stderr.

    Returns:
        A summary dict (also written to ``outdir/summary.json``).
    """
    problem = problem or Problem(16, 4, 0.1, "tanh")
    os.makedirs(outdir, exist_ok=True)
    start = time.perf_counter()
    rows, summary = _curves_section(problem, d, seeds, outdir, verbose)
    blocks = [{
        "title": "Finite-size learning curves (exact noise-averaged model)",
        "figure": "learning_curves.png",
        "text": (f"d = {d}, p = {problem.sizes(d)[0]}, n = {problem.sizes(d)[1]}; gradient "
                 f"flow in the training time τ = kη/d². E_score is smallest at "
                 f"τ ≈ {summary['tau_min_score_error']:.3g} "
                 f"(E_score = {summary['min_score_error']:.3g})."),
        "rows": rows,
    }]
    for section in sections or ():
        blocks.append(section(problem, d, outdir, verbose))
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
    """Sections beyond the learning curves, those whose modules are available."""
    return []
