"""The report's real-data section: the digits against the Gaussian theory of their spectrum.

At d = 64 (scikit-learn's 8×8 digits, centred, κ = 1) and a few small (ψ_p, ψ_n), three
sets of learning curves side by side: the asymptotic theory with the digits' covariance
spectrum, finite-size runs on Gaussian data with that spectrum (the surrogate) and
finite-size runs on the real digits (held-out digits give the population matrices), both
with the same W per draw (:func:`rfdiff.tools.real_data_comparison`). Every set gets the
same curve timescales (``tau_gen_argmin``, ``tau_mem_fraction``: the finite-size runs have
no spectral edges), and the real test loss carries its held-out statistical error
(:func:`rfdiff.tools.held_out_error`). Without scikit-learn the section says how to
install it and the report goes on.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from .._finite.real_data import real_data_comparison
from .._io import jsonable
from .._model.datasets import digits
from .._theory.curves import asymptotic_curves
from .._timescales import TimescaleDefinitions, curve_timescales
from ..plot.curves import new_figure, plot_real_data
from .shared import progress

__all__ = ["REAL_DATA", "real_data_section"]

#: Settings of the section: (ψ_p, ψ_n) pairs at d = 64, draws per setting, the τ grid.
#: (8, 2) has p = 512, n = 128; each setting takes a few seconds on two cores.
REAL_DATA = {"settings": ((4.0, 2.0), (8.0, 2.0)), "draws": 2,
             "tau": tuple(np.append(np.logspace(-1, 5, 31), np.inf))}

TITLE = "Real data: how far the Gaussian theory carries"
PURPOSE = ("the 8×8 digits (d = 64) against the theory with their own covariance spectrum "
           "and against Gaussian data with that spectrum: where the Gaussian theory holds "
           "and where real data depart")
_INSTALL = "pip install 'rfdiff[data]'"
_SOURCES = (("theory", "theory (d → ∞)"), ("surrogate", "Gaussian surrogate (d = 64)"),
            ("real", "real digits (d = 64)"))


def _timescales(curves_list):
    """Mean over draws of the curve timescales (one entry for the theory)."""
    ts = [curve_timescales(c) for c in curves_list]
    return float(np.mean([x.tau_gen for x in ts])), float(np.mean([x.tau_mem for x in ts]))


def _one_setting(problem, psi_p, psi_n, X, tau, draws, seed):
    base = dataclasses.replace(problem, psi_p=psi_p, psi_n=psi_n)
    cmp = real_data_comparison(base, X, tau, draws=draws, seed=seed)
    theory = asymptotic_curves(cmp.problem, tau).curves
    keys = ("train_loss", "test_loss", "gen_loss", "score_error")
    curves = {"theory": {"tau": tau, **{k: np.asarray(getattr(theory, k)) for k in keys}}}
    for which in ("surrogate", "real"):
        curves[which] = {"tau": tau, **{k: cmp.mean(which, k) for k in keys}}
    error = {k: cmp.mean_error(k) for k in ("test_loss", "score_error")}
    times = {"theory": _timescales([theory]), "surrogate": _timescales(cmp.surrogate),
             "real": _timescales(cmp.real)}
    ends = [float(c.test_loss[-1]) for c in cmp.real]
    return {"psi_p": psi_p, "psi_n": psi_n, "p": cmp.p, "n": cmp.n,
            "held_out": cmp.held_out, "draws": draws, "real_test_loss_inf_range": [
                min(ends), max(ends)],
            "population_error_U": float(np.mean(cmp.population_error)),
            "curves": curves, "real_error": error, "times": times}


def _rows(results):
    rows = []
    for res in results:
        mem_theory = res["times"]["theory"][1]
        for which, label in _SOURCES:
            c, (t_gen, t_mem) = res["curves"][which], res["times"][which]
            tau = np.asarray(c["tau"], dtype=float)
            # the grid point nearest τ_gen in log τ (the finite times only)
            k = int(np.argmin(np.where(np.isfinite(tau), np.abs(np.log(tau / t_gen)), np.inf)))
            real = which == "real"
            rows.append({
                "(psi_p, psi_n)": f"({res['psi_p']:g}, {res['psi_n']:g})", "curves": label,
                "tau_gen": t_gen, "tau_mem": t_mem,
                "tau_mem/tau_mem(theory)": t_mem / mem_theory,
                "L_train(inf)": float(c["train_loss"][-1]),
                "L_test(inf)": float(c["test_loss"][-1]),
                "± L_test(inf) (held-out)": (float(res["real_error"]["test_loss"][-1]) if real
                                             else "exact"),
                "E_score near tau_gen": float(c["score_error"][k]),
                "± E_score (held-out)": (float(res["real_error"]["score_error"][k]) if real
                                         else "exact")})
    return rows


def _early_deviation(res):
    """Largest relative deviation of the real L_train, L_test from the theory for τ ≤ τ_gen."""
    c, th = res["curves"]["real"], res["curves"]["theory"]
    keep = np.asarray(c["tau"]) <= res["times"]["theory"][0]
    return float(max(np.max(np.abs(c[k][keep] / th[k][keep] - 1))
                     for k in ("train_loss", "test_loss")))


def _text(results):
    glossary = TimescaleDefinitions().glossary()
    parts = [(f"τ_gen = tau_gen_argmin ({glossary['tau_gen_argmin']}) and τ_mem = "
              f"tau_mem_fraction ({glossary['tau_mem_fraction']}) for all three sets of "
              f"curves: the finite-size runs have no spectral edges to read. ")]
    for res in results:
        th, sg, rl = (res["times"][w] for w in ("theory", "surrogate", "real"))
        end = {w: float(res["curves"][w]["test_loss"][-1]) for w in ("theory", "surrogate",
                                                                     "real")}
        err = float(res["real_error"]["test_loss"][-1])
        ratio = rl[1] / th[1]
        lo, hi = res["real_test_loss_inf_range"]
        parts.append(
            f"At (ψp, ψn) = ({res['psi_p']:g}, {res['psi_n']:g}) (p = {res['p']}, n = "
            f"{res['n']}, {res['held_out']} held-out digits, {res['draws']} "
            f"draw{'s' if res['draws'] != 1 else ''}): up to the "
            f"theory's τ_gen ≈ {th[0]:.3g} the real L_train and L_test stay within "
            f"{_early_deviation(res):.1%} of the theory; τ_mem(real)/τ_mem(theory) = "
            f"{ratio:.3f} (surrogate: {sg[1] / th[1]:.3f}), so memorisation sets in "
            f"{'earlier' if ratio < 1 else 'later'} on the real digits; at τ = ∞ the real "
            f"L_test is {end['real']:.4f} ± {err:.2g} (held-out error; the draws range over "
            f"[{lo:.4f}, {hi:.4f}]) against "
            f"{end['surrogate']:.4f} (surrogate) and {end['theory']:.4f} (theory), with a "
            f"held-out estimate of Ũ whose relative error is {res['population_error_U']:.1%}. ")
    parts.append("The real-data E_score is measured against the score of the Gaussian with the "
                 "digits' second moment, not the unknown true score. Held-out errors are "
                 "half the difference of the losses on the two halves of the held-out "
                 "digits (rms estimate, averaged over the draws).")
    return "".join(parts)


def _figure(results, path):
    fig, axes = new_figure(1, len(results), size=(5.5, 4.2))
    for ax, res in zip(axes[0], results):
        plot_real_data(ax, res["curves"]["theory"], res["curves"]["surrogate"],
                       res["curves"]["real"], real_error=res["real_error"])
        ax.set_title(f"digits d = 64, ψp = {res['psi_p']:g}, ψn = {res['psi_n']:g}")
        ax.set_ylabel("loss")
    fig.savefig(path, dpi=110)


def _params(problem, settings, draws, seed):
    return {"data": "scikit-learn digits (8×8), centred, κ = 1", "d": 64,
            "(psi_p, psi_n)": [f"({a:g}, {b:g})" for a, b in settings], "t": problem.t,
            "activation": problem.params()["activation"], "sigma": "the digits' spectrum",
            "draws": draws, "seeds": [seed + r for r in range(draws)], "method": "exact"}


def _skipped(problem, outdir, reason):
    with open(os.path.join(outdir, "real_data.json"), "w") as fh:
        json.dump({"skipped": reason, "install": _INSTALL}, fh)
    cfg = REAL_DATA
    return {"title": TITLE, "figure": None, "purpose": PURPOSE,
            "params": {**_params(problem, cfg["settings"], cfg["draws"], 0),
                       "status": "skipped (scikit-learn missing)"},
            "text": (f"Skipped: this section needs scikit-learn for the bundled digits "
                     f"({reason}). Install it with {_INSTALL} (or pip install scikit-learn) "
                     f"and run the report again."),
            "rows": []}


def real_data_section(problem, d, seeds, outdir, verbose):
    """The report section on real data (see the module docstring).

    Args:
        problem: supplies t and the activation (ψ_p, ψ_n and the spectrum are the
            section's own).
        d: the report's finite size (unused: the digits fix d = 64).
        seeds: the first one is the first seed of the draws.
        outdir: the report folder (``real_data.png``, ``real_data.json``).
        verbose: progress on stderr.

    Returns:
        The section's block; without scikit-learn a block that says it was skipped.
    """
    cfg = REAL_DATA
    try:
        X = digits()
    except ImportError as err:
        progress("real data: skipped (scikit-learn is missing)", verbose)
        return _skipped(problem, outdir, str(err).split(":")[0])
    tau = np.asarray(cfg["tau"], dtype=float)
    results = []
    for psi_p, psi_n in cfg["settings"]:
        progress(f"real data: digits (d=64) and their Gaussian surrogate at psi_p={psi_p:g}, "
                 f"psi_n={psi_n:g}, {cfg['draws']} draws, with the theory", verbose)
        results.append(_one_setting(problem, psi_p, psi_n, X, tau, cfg["draws"], seeds[0]))
    _figure(results, os.path.join(outdir, "real_data.png"))
    with open(os.path.join(outdir, "real_data.json"), "w") as fh:
        json.dump(jsonable({"settings": results, "definitions": {
            "tau_gen": "tau_gen_argmin", "tau_mem": "tau_mem_fraction"}}), fh, allow_nan=False)
    return {"title": TITLE, "figure": "real_data.png", "purpose": PURPOSE,
            "params": _params(problem, cfg["settings"], cfg["draws"], seeds[0]),
            "caption": ("L_train (blue) and L_test (orange) against τ: the d → ∞ theory with "
                        "the digits' covariance spectrum (lines), finite-size runs on Gaussian "
                        "data with that spectrum (dashed) and on the real digits (points, "
                        "mean over the draws; band: ± the held-out statistical error of the "
                        "real L_test). Both finite-size runs of a draw share W."),
            "text": _text(results), "rows": _rows(results)}
