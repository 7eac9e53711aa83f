"""The report's index page, in Markdown and in self-contained HTML.

A page is a list of blocks (dicts): ``title``, ``text``, and optionally ``params`` (the
section's own parameter box), ``figure`` (a PNG file in the folder) with its ``caption``,
``rows`` (a table), ``claims`` (the claims table) and ``items`` (a bulleted list).
"""

from __future__ import annotations

import base64
import html
import json
import os

import numpy as np

__all__ = ["write_index"]

_CLAIM_KEYS = ("claim", "regime", "measured", "expected", "verdict")

_STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
          "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}"
          ".params{background:#f4f4f4;border-left:4px solid #888;padding:4px 8px;"
          "font-size:small;white-space:pre-wrap}"
          "figcaption{font-size:small;color:#333;margin-bottom:1em}"
          ".pass{background:#dfd}.bends{background:#fec}")


def _fmt(value):
    return f"{value:.4g}" if isinstance(value, int | float | np.number) else str(value)


def _table_md(rows, keys=None):
    keys = list(keys or rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r[k]) for k in keys) + " |")
    return "\n".join(lines)


def _table_html(rows, keys=None):
    keys = list(keys or rows[0])
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='{html.escape(str(r[k]).split()[0])}'>{html.escape(_fmt(r[k]))}</td>"
            if k == "verdict" else f"<td>{html.escape(_fmt(r[k]))}</td>" for k in keys)
        + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _params_text(params):
    return ", ".join(f"{k} = {_fmt(v) if not isinstance(v, list | tuple) else v}"
                     for k, v in params.items())


def _block_md(b):
    md = [f"## {b['title']}", ""]
    if b.get("params"):
        md += [f"> **Parameters of this section:** {_params_text(b['params'])}", ""]
    md += [b["text"], ""]
    md += [f"- {item}" for item in b.get("items", ())]
    if b.get("items"):
        md.append("")
    if b.get("claims"):
        md += [_table_md(b["claims"], _CLAIM_KEYS), ""]
    if b.get("figure"):
        md += [f"![{b['title']}]({b['figure']})", "", f"*{b.get('caption', '')}*", ""]
    if b.get("rows"):
        md += [_table_md(b["rows"]), ""]
    return md


def _block_html(b, outdir):
    parts = [f"<h2>{html.escape(b['title'])}</h2>"]
    if b.get("params"):
        parts.append(f"<div class='params'><b>Parameters of this section:</b> "
                     f"{html.escape(_params_text(b['params']))}</div>")
    parts.append(f"<p>{html.escape(b['text'])}</p>")
    if b.get("items"):
        parts.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in b["items"])
                     + "</ul>")
    if b.get("claims"):
        parts.append(_table_html(b["claims"], _CLAIM_KEYS))
    if b.get("figure"):
        with open(os.path.join(outdir, b["figure"]), "rb") as fh:
            data = base64.b64encode(fh.read()).decode()
        parts.append(f'<figure><img alt="{html.escape(b["title"])}" '
                     f'src="data:image/png;base64,{data}" style="max-width:100%">'
                     f"<figcaption>{html.escape(b.get('caption', ''))}</figcaption></figure>")
    if b.get("rows"):
        parts.append(_table_html(b["rows"]))
    return "".join(parts)


def write_index(outdir, blocks, meta):
    """Write ``index.md`` and ``index.html`` (figures embedded) into ``outdir``.

    Args:
        outdir: the report folder (holds the figures named by the blocks).
        blocks: the page's blocks, in order (see the module docstring).
        meta: the report's summary (``versions``, ``run_time_s``, ``date``).
    """
    head = (f"Versions: {json.dumps(meta['versions'])}; run time {meta['run_time_s']:.1f} s; "
            f"date {meta['date']}. Each section states its own parameters.")
    md = ["# rfdiff report", "", head, ""]
    parts = [f"<h1>rfdiff report</h1><p>{html.escape(head)}</p>"]
    for b in blocks:
        md += _block_md(b)
        parts.append(_block_html(b, outdir))
    with open(os.path.join(outdir, "index.md"), "w") as fh:
        fh.write("\n".join(md))
    with open(os.path.join(outdir, "index.html"), "w") as fh:
        fh.write(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>rfdiff report"
                 f"</title><style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>")
