"""The report's narrative blocks: introduction, the claims section, takeaways, appendix.

The introduction and the appendix explain; every number they quote is computed by the
sections (the claims, the timescale study) and passed in.
"""

from __future__ import annotations

import os

import numpy as np

from .._timescales import TimescaleDefinitions
from ..plot.curves import new_figure
from .claims import (CLAIMS_PSI_P, FADING_RATIOS, GEN_TOL, MEM_TOL,
                     check_claims, fading_sweep, local_exponents, sweep_fits,
                     timescale_sweep)
from .shared import progress

__all__ = ["introduction", "claims_section", "takeaways", "definitions_appendix",
           "MAIN_DEFINITIONS"]

#: The one definition of each timescale used in the main text (names of the glossary).
MAIN_DEFINITIONS = {"τ_gen": "tau_gen_spectral", "τ_mem": "tau_mem_spectral"}

_MODEL = ("A diffusion model learns the score of noisy data x_t = e^{-t}x_0 + √Δ_t z, "
          "Δ_t = 1 − e^{-2t}, with a random-features network s(x) = (A/√p) σ(Wx/√d) "
          "(p features, fixed random W, trained weights A) on n training points in "
          "dimension d. For d → ∞ at fixed ψ_p = p/d and ψ_n = n/d, gradient flow on the "
          "denoising loss is solved exactly: the learning curves are sums over the spectrum "
          "of a p×p matrix U, and each part of that spectrum relaxes on its own timescale "
          "ψ_p/(Δ_t λ). The generalisation bulk ρ₂ (d eigenvalues) is learnt first, at "
          "τ_gen; the memorisation bulk ρ₁ (n − d eigenvalues, present for n > d) only at "
          "τ_mem, so that between τ_gen and τ_mem the model generalises, and the window "
          "widens with n.")


def introduction(blocks) -> dict:
    """The opening block: the model in a few lines and what each section shows.

    Args:
        blocks: the section blocks that follow (each with ``title`` and ``purpose``).

    Returns:
        A block (``title``, ``text``, ``items``).
    """
    defs = TimescaleDefinitions().glossary()
    main = "; ".join(f"{sym} = {defs[name]}" for sym, name in MAIN_DEFINITIONS.items())
    return {"title": "Introduction",
            "text": (_MODEL + " In the main text τ_gen and τ_mem mean one thing each: "
                     + main + ". Other definitions (curve minima, level crossings) are "
                     "gathered in the appendix. Each section states its own parameters. "
                     "The sections:"),
            "items": [f"{b['title']}: {b['purpose']}" for b in blocks if b.get("purpose")]}


def _plain_log_ticks(ax, values):
    """Label a log x axis at ``values`` only (the default minor labels run together)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.xaxis.set_minor_formatter(NullFormatter())


def _claims_figure(sweep, fading, path):
    fig, axes = new_figure(1, 3, size=(4.2, 3.6))
    ax = axes[0, 0]
    x = sweep["psi_n"]
    ax.plot(x, sweep["tau_mem"], "s-", color="C3", label="τ_mem (spectral)")
    ax.plot(x, sweep["tau_mem_leading"], ":", color="C3", label="ψn/(Δ_t v_t²) (∝ n)")
    ax.plot(x, sweep["tau_gen"], "o-", color="C0", label="τ_gen (spectral)")
    ax.plot(x, sweep["tau_gen_limit"], ":", color="C0", label="τ_gen at ψn → ∞")
    ax.set(xscale="log", yscale="log", xlabel="ψn = n/d", ylabel="τ",
           title=f"A: timescales at ψp = {sweep['psi_p']:g}")
    _plain_log_ticks(ax, x)
    ax.legend(fontsize="x-small")
    ax = axes[0, 1]
    mid = np.sqrt(x[1:] * x[:-1])
    ax.axhspan(-GEN_TOL, GEN_TOL, color="C0", alpha=0.12, lw=0)
    ax.axhspan(1 - MEM_TOL, 1 + MEM_TOL, color="C3", alpha=0.12, lw=0)
    ax.plot(mid, local_exponents(x, sweep["tau_mem"]), "s-", color="C3", label="τ_mem")
    ax.plot(mid, local_exponents(x, sweep["tau_mem_edge"]), ":", color="C3",
            label="τ_mem, leading-order edge")
    ax.plot(mid, local_exponents(x, sweep["tau_gen"]), "o-", color="C0", label="τ_gen")
    ax.set(xscale="log", xlabel="ψn (exponent between neighbours)", ylabel="local exponent",
           title="B: d log τ / d log ψn")
    _plain_log_ticks(ax, x)
    ax.legend(fontsize="x-small")
    ax = axes[0, 2]
    ax.plot(fading["psi_n"] / fading["psi_p"], fading["gen_loss_inf"], "o-", color="C2",
            label="L_gen(∞)")
    ax.axhline(fading["level"], color="0.4", lw=0.8, label="memorisation level")
    ax.axvline(1.0, color="0.4", ls="--", lw=0.8, label="n = p")
    ax.set(xscale="log", yscale="log", xlabel="ψn/ψp = n/p", ylabel="L_gen(τ = ∞)",
           title=f"C: fading at ψp = {fading['psi_p']:g}")
    _plain_log_ticks(ax, fading["psi_n"] / fading["psi_p"])
    ax.legend(fontsize="x-small")
    fig.savefig(path, dpi=110)


def claims_section(problem, d, seeds, outdir, verbose):
    """The paper's claims with their measured numbers and verdicts (d → ∞ theory)."""
    progress(f"claims: spectral timescales at psi_p = {CLAIMS_PSI_P:g}", verbose)
    sweep = timescale_sweep(problem)
    progress("claims: L_gen(inf) across psi_n/psi_p", verbose)
    fading = fading_sweep(problem)
    claims = check_claims(sweep, fading)
    _claims_figure(sweep, fading, os.path.join(outdir, "claims.png"))
    fits = sweep_fits(sweep)
    x = sweep["psi_n"]
    text = (f"Measured on the d → ∞ theory with τ_gen = tau_gen_spectral and τ_mem = "
            f"tau_mem_spectral. Over ψn = {x[0]:g} … {x[-1]:g} at ψp = {sweep['psi_p']:g}, "
            f"τ_gen goes from {sweep['tau_gen'][0]:.3g} to {sweep['tau_gen'][-1]:.3g} "
            f"(its ψn → ∞ limit is {sweep['tau_gen_limit'][-1]:.3g}) while τ_mem goes from "
            f"{np.nanmin(sweep['tau_mem']):.3g} to {sweep['tau_mem'][-1]:.3g}; power-law fits "
            f"over the sweep: τ_gen ∝ ψn^{fits['tau_gen'][0]:.2f}, τ_mem ∝ "
            f"ψn^{fits['tau_mem'][0]:.2f}. Each claim is checked where it is meant to hold "
            f"and at the other end of the sweep, where it bends: τ_gen still relaxes "
            f"towards its large-ψn limit at small ψn, and τ_mem carries the factor "
            f"(1 − √(ψn/ψp))⁻² of the shifted Marchenko–Pastur edge, whose local exponent "
            f"{local_exponents(x, sweep['tau_mem_edge'])[-1]:.3f} at the top of the sweep "
            f"accounts for the bend. Fading: L_gen(∞) at τ = ∞ falls from "
            f"{fading['gen_loss_inf'][0]:.3g} (n = p/{1 / FADING_RATIOS[0]:g}) to "
            f"{fading['gen_loss_inf'][-1]:.3g} (n = {FADING_RATIOS[-1]:g} p).")
    rows = [{"psi_n": float(pn), "tau_gen": float(g), "tau_mem": float(m),
             "psi_n/(Delta_t v_t^2)": float(lead), "tau_mem/leading": float(m / lead)}
            for pn, g, m, lead in zip(x, sweep["tau_gen"], sweep["tau_mem"],
                                      sweep["tau_mem_leading"])]
    return {"title": "The paper's claims, checked", "figure": "claims.png",
            "purpose": "the three claims (τ_gen nearly independent of n, τ_mem ∝ n for "
                       "ψp ≫ ψn, memorisation fading for n > p) with measured numbers and "
                       "a verdict, where they hold and where they bend",
            "params": {"psi_p (timescales)": sweep["psi_p"], "psi_n (timescales)": list(
                map(float, x)), "psi_p (fading)": fading["psi_p"],
                "psi_n/psi_p (fading)": list(FADING_RATIOS), "t": problem.t,
                "activation": problem.params()["activation"],
                "sigma": problem.params()["sigma"], "d": "∞ (theory)"},
            "caption": (f"A: spectral τ_gen (blue) and τ_mem (red) against ψn at ψp = "
                        f"{sweep['psi_p']:g}, with τ_mem's leading order ψn/(Δ_t v_t²) and "
                        f"τ_gen's ψn → ∞ limit (dotted). B: local exponents between "
                        f"neighbouring ψn; shaded: the tolerances of the verdicts "
                        f"(|α| ≤ {GEN_TOL:g} for τ_gen, |α − 1| ≤ {MEM_TOL:g} for τ_mem); "
                        f"dotted: the exponent of the leading-order ρ₁ edge. C: L_gen at "
                        f"τ = ∞ against n/p at ψp = {fading['psi_p']:g}, with the "
                        f"memorisation level of the phase labels and the line n = p."),
            "text": text, "claims": claims, "rows": rows}


def takeaways(claims) -> dict:
    """The closing block: one sentence per claim, with its verdicts and numbers.

    Args:
        claims: the rows of :func:`rfdiff._report.claims.check_claims`.

    Returns:
        A block (``title``, ``text``, ``items``).
    """
    by_claim: dict = {}
    for c in claims:
        by_claim.setdefault(c["claim"], []).append(c)
    items = ["{}: {}.".format(name, "; ".join(f"{r['verdict']} at {r['regime']} "
                                               f"({r['measured']})" for r in rows))
             for name, rows in by_claim.items()]
    return {"title": "Takeaways",
            "text": ("The window between generalisation and memorisation is a matter of "
                     "timescales: τ_gen is set by the generalisation bulk and saturates as n "
                     "grows, τ_mem by the memorisation bulk and grows with n, and above "
                     "n = p the model cannot interpolate, so memorisation fades. The "
                     "numbers:"),
            "items": items}


def definitions_appendix(rep) -> dict:
    """The alternative definitions of τ_gen and τ_mem, with their values on one study.

    Args:
        rep: the :class:`rfdiff.ScalingReport` of the timescales section.

    Returns:
        A block (``title``, ``text``, ``items``, ``rows``).
    """
    defs = TimescaleDefinitions().glossary()
    names = {("tau_gen", "curve"): "tau_gen_argmin", ("tau_gen", "reached"): "tau_gen_reached",
             ("tau_gen", "spectral"): "tau_gen_spectral",
             ("tau_mem", "curve"): "tau_mem_fraction",
             ("tau_mem", "threshold"): "tau_mem_threshold",
             ("tau_mem", "score"): "tau_mem_score",
             ("tau_mem", "spectral"): "tau_mem_spectral", ("tau_mem", "onset"): "tau_mem_onset"}
    rows = []
    for (group, key), name in names.items():
        alpha, err = rep.exponents[group][key]
        values = getattr(rep, group)[key]
        rows.append({"name": name, "main text": "yes" if name in MAIN_DEFINITIONS.values()
                     else "no", **{f"psi_n={pn:g}": float(v) for pn, v in zip(rep.psi_n,
                                                                            values)},
                     "exponent": alpha, "stderr": err})
    return {"title": "Appendix: other definitions of the timescales",
            "text": (f"The same words name several timescales. The main text uses "
                     f"tau_gen_spectral and tau_mem_spectral; the others, measured on the "
                     f"timescale study (ψp = {rep.psi_p:g}), answer other questions and can "
                     f"scale differently — a curve minimum moves with the depth of the "
                     f"curve, a level crossing with the height of L_gen(∞). The glossary:"),
            "items": [f"{k}: {v}" for k, v in defs.items()], "rows": rows,
            "params": {"psi_p": rep.psi_p, "psi_n": [float(v) for v in rep.psi_n],
                       "thresholds": dict(TimescaleDefinitions()._asdict())}}
