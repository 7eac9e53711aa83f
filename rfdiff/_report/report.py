"""The main job: a folder with figures, tables and an index page (Markdown and HTML).

The page tells the paper's story: an introduction (the model, what each section shows),
the claims checked with numbers, the spectrum, learning curves, timescales, phase diagram,
generated samples and real data (each with its own parameters and captioned figures), takeaways
computed from the claims, and an appendix with the other definitions of the timescales.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import time

import numpy as np

from .._common import check_executor, check_picklable, float64, map_tasks
from .._finite.flow import gradient_flow, learning_curves
from .._finite.instance import finite_size_instance
from ..plot.curves import new_figure
from .._model.problem import Problem
from . import shared
from .render import write_index
from .real_data import real_data_section
from .shared import progress
from .story import claims_section, definitions_appendix, introduction, takeaways

__all__ = ["make_report", "default_sections"]


_progress = progress


def _versions():
    import jax
    import numpy
    import scipy

    from .._common.version import VERSION as __version__

    return {"rfdiff": __version__, "jax": jax.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "python": platform.python_version()}


# the report's learning-curve grid: 121 log-spaced τ in [0.1, 1e5], then τ = ∞
CURVES_TAU = np.concatenate([np.logspace(-1, 5, 121), [np.inf]])


@float64
def _seed_run(problem, d, seed, tau):
    """One finite-size run of the report (one task): curves on ``tau`` and the
    eigenvalues of U."""
    flow = gradient_flow(finite_size_instance(problem, d, seed=seed, method="exact"))
    return learning_curves(flow, tau), np.sort(np.asarray(flow.eigvals, dtype=float))


def _runs(problem, d, seeds, verbose):
    """The finite-size runs shared by the sections, one per seed, on the report's executor
    (serial by default; the results do not depend on it: every task carries its seed)."""
    def build():
        def report(done, total, task):
            _progress(f"exact matrices and gradient flow at d={d}, seed={task[2]} "
                      f"({done}/{total})", verbose)

        tasks = [(problem, d, s, CURVES_TAU) for s in seeds]
        return map_tasks(_seed_run, tasks, shared.executor(), report)

    return shared.cached(("runs", problem, d, tuple(seeds)), build)


def _size_params(problem, d, seeds):
    p, n = problem.sizes(d)
    return {**problem.params(), "d": d, "p": p, "n": n, "seeds": list(seeds)}


def _spectrum_section(problem, d, seeds, outdir, verbose):
    """Asymptotic spectrum of U with its parts, against the finite-size eigenvalues."""
    from ..plot.spectrum import assign_by_counts, part_counts, spectrum_figure
    from .._spectrum import predicted_counts, spectral_structure, wasserstein1

    _progress("asymptotic spectrum and its parts", verbose)
    structure = spectral_structure(problem, d=d)
    eig = _runs(problem, d, seeds, verbose)[0][1]
    fig = spectrum_figure(problem, structure, eigenvalues=eig)
    fig.savefig(os.path.join(outdir, "spectrum.png"), dpi=110)
    with open(os.path.join(outdir, "spectrum.json"), "w") as fh:
        json.dump({"parts": structure.as_dicts(), "notes": list(structure.notes)}, fh,
                  default=str)
    counts = part_counts(structure, eig.size)
    assigned = assign_by_counts(eig, structure, counts)
    rows = []
    for k, part in enumerate(structure.parts):
        row = {"part": f"{part.kind}: {part.role}", "lo": part.lo, "hi": part.hi,
               "mass": part.mass,
               f"eigenvalues at d={d}": counts[k] if part.count is not None
               else f"{counts[k]} (from mass)"}
        if assigned is not None:
            row["assigned eig. range"] = (f"[{assigned[k][0]:.4g}, {assigned[k][-1]:.4g}]"
                                          if assigned[k].size else "none")
        rows.append(row)
    w1 = wasserstein1(problem, eig)
    return {"title": "Spectrum of U: theory and finite size", "figure": "spectrum.png",
            "purpose": "the parts of the spectrum of U (atom at s_t², d-component, "
                       "memorisation bulk ρ₁, generalisation bulk ρ₂) and a finite-size U "
                       "against them",
            "params": _size_params(problem, d, seeds[:1]),
            "caption": _spectrum_caption(problem, d, seeds[0], structure, assigned),
            "text": (f"Parts found from the self-consistent equations (edges from the fold "
                     f"condition), against the eigenvalues of the exact U at d = {d}, seed "
                     f"{seeds[0]}; Wasserstein-1 distance to the theory {w1:.3g}. "
                     + _roles_text(structure, predicted_counts(problem, d))
                     + _smearing_text(structure, assigned) + " ".join(structure.notes)),
            "rows": rows}


def _spectrum_caption(problem, d, seed, structure, assigned):
    how = ("sorted and handed to the parts by their predicted counts, lowest λ first "
           "(orange: the panel's own part; hatched: eigenvalues of another part that spread "
           "into the window at finite d)" if assigned is not None
           else "all eigenvalues inside each window (no counts to assign them)")
    return (f"Left: every part on a log λ axis (densities scaled to peak 1, atoms dashed, "
            f"finite-size eigenvalues as ticks). Other panels: one bulk each, asymptotic "
            f"density (black), leading-order ρ₁/ρ₂ (dotted) and the histogram per p of the "
            f"eigenvalues of one exact U (d = {d}, seed {seed}), {how}.")


def _roles_text(structure, predicted):
    unknown = [q for q in structure.parts if q.role == "unidentified"]
    if not unknown:
        return ""
    expected = ", ".join(f"{k} {v}" for k, v in predicted.items() if v)
    return (f"{len(unknown)} bulk(s) have no role: roles are assigned by matching each bulk's "
            f"mass to the predicted eigenvalue counts ({expected}), and with a data spectrum "
            f"of several atoms the d-component and ρ₂ split into one piece per atom, which "
            f"can merge with ρ₁, so no combination of the counts matches these masses. "
            f"The table gives each bulk's mass and its count round(mass · p). ")


def _smearing_text(structure, assigned):
    if assigned is None:
        return ""
    out = []
    for part, ev in zip(structure.parts, assigned):
        if part.kind != "atom" or not ev.size:
            continue
        inside = [(b, int(np.sum((ev >= b.lo) & (ev <= b.hi)))) for b in structure.bulks]
        where = ", ".join(f"{n} between the {b.role} edges [{b.lo:.3g}, {b.hi:.3g}]"
                          for b, n in inside if n)
        out.append(f"The {part.role} (λ = {part.lo:.4g}, {ev.size} eigenvalues by count) is "
                   f"smeared at finite d over [{ev[0]:.4g}, {ev[-1]:.4g}]"
                   + (f", {where}; they are drawn hatched there, not counted as that part. "
                      if where else ". "))
    return "".join(out)


#: The generation study: d = 16, one n well below d (copies appear) and one above it.
GENERATION = dict(d=16, psi_n=(0.25, 2.0), times=12, n_samples=400, steps=100,
                  bootstrap=200, tau=tuple(np.append(np.logspace(1, 7, 7), np.inf)))


def _generation_section(problem, d, seeds, outdir, verbose):
    """Memorisation in generated samples against training time, for n < d and n > d."""
    from .._generation import diffusion_times, memorisation_study
    from ..plot.generation import plot_memorisation, plot_quality

    g = GENERATION
    _progress(f"score fields and generation (d={g['d']}, n/d = {g['psi_n']})", verbose)
    study = memorisation_study(problem, g["d"], g["psi_n"], np.asarray(g["tau"]),
                               times=diffusion_times(count=g["times"]), seed=seeds[0],
                               n_samples=g["n_samples"], steps=g["steps"],
                               bootstrap=g["bootstrap"])
    fig, axes = new_figure(1, 2, size=(5.5, 4))
    plot_memorisation(axes[0, 0], study.curves, level=study.level)
    plot_quality(axes[0, 1], study.curves)
    fig.savefig(os.path.join(outdir, "generation.png"), dpi=110)
    rows = [{"n": c.n, "tau": float(t), "f_mem": float(f), "f_mem_err": float(e),
             "gaussian_kl": float(k)}
            for c in study.curves
            for t, f, e, k in zip(c.tau, c.metrics["f_mem"], c.metrics["f_mem_err"],
                                  c.metrics["gaussian_kl"])]
    low, high = study.curves[0], study.curves[-1]
    onset = study.timescales["f_mem_onset"]
    return {"title": "Memorisation in generated samples",
            "figure": "generation.png",
            "purpose": "samples generated with the learnt score: copies of training points "
                       "appear with training time when n is well below d, and hardly at all "
                       "for n > d",
            "params": {"d": g["d"], "p": low.p, "n": [c.n for c in study.curves],
                       "diffusion times": g["times"],
                       "activation": problem.params()["activation"],
                       "sigma": problem.params()["sigma"], "seed": seeds[0],
                       "samples per τ": g["n_samples"],
                       "sampler": f"{low.settings['sampler']}, {g['steps']} steps"},
            "caption": ("Left: f_mem (fraction of samples whose nearest training point is "
                        "3 times closer than the second nearest, a copy) ± bootstrap error "
                        "against training time, one colour per n; grey line: the onset "
                        "level; dotted: τ of the smallest score error at the smallest "
                        "diffusion time; dash-dotted: the theory onset of ρ₁ (n > d only). "
                        "Right: Gaussian KL of the samples to the data law; thin lines: "
                        "exact samples (dashed) and the sampler run with the memorising "
                        "empirical score (dotted); stars: half-way degradation."),
            "text": (f"At d = {g['d']}, p = {low.p}: for n = {low.n} f_mem rises to "
                     f"{low.metrics['f_mem'][-1]:.3f} ± {low.metrics['f_mem_err'][-1]:.3f} at "
                     f"τ = ∞ (onset f_mem ≥ {study.level:g} at τ ≈ {onset[0]:.3g}); for "
                     f"n = {high.n} it stays at most {np.max(high.metrics['f_mem']):.3f}"
                     + (f" (onset τ ≈ {onset[-1]:.3g})" if np.isfinite(onset[-1]) else
                        " (never reaches the onset level)")
                     + ". More training data delays and weakens copying: memorisation in "
                       "samples fades as n grows."),
            "rows": rows}


def _curves_section(problem, d, seeds, outdir, verbose):
    """Learning curves: the d → ∞ theory with finite-size simulations for several seeds."""
    from .._theory.curves import asymptotic_curves
    from ..plot.curves import plot_curves as _plot

    tau = CURVES_TAU
    _progress("asymptotic learning curves", verbose)
    theory = asymptotic_curves(problem, tau).curves
    sims = [c for c, _ in _runs(problem, d, seeds, verbose)]
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
            "purpose": "the d → ∞ learning curves against gradient flow on finite-size "
                       "matrices: where the score error is smallest and how close "
                       "simulation and theory are",
            "params": _size_params(problem, d, seeds),
            "caption": ("Left: training and test losses, theory d → ∞ (lines) and gradient "
                        f"flow at d = {d} (points, one colour shade per seed). Right: score "
                        "error E_score and generalisation loss L_gen on a log scale, same "
                        "styles. τ = kη/d² is the training time."),
            "text": (f"d = {d}, p = {problem.sizes(d)[0]}, n = {problem.sizes(d)[1]}; gradient "
                     f"flow in the training time τ = kη/d² from A(0) = 0. The asymptotic E_score "
                     f"is smallest at τ ≈ {tau[k]:.3g} (E_score = {theory.score_error[k]:.3g}). "
                     f"Largest relative deviation of the simulated L_train, L_test from the "
                     f"theory over τ: {dev:.2%}."),
            "rows": rows}


def scaling_study(problem):
    """The timescale study of the report (shared by its section and the appendix)."""
    from .._timescales import scaling_report

    # the scaling needs ψp well above ψn: the paper's Fig. 5 setting ψp = 64 at least
    psi_p = max(problem.psi_p, 64.0)
    psi_n = tuple(psi_p / 16 * f for f in (1.0, 2.0, 4.0, 8.0))
    return shared.cached(("scaling", problem), lambda: scaling_report(
        psi_p, psi_n, problem.t, problem.activation, problem.spectrum,
        tau=np.append(np.logspace(-1, 7, 97), np.inf)))


def _timescales_section(problem, d, seeds, outdir, verbose):
    """Spectral timescales and the curves they order, across ψ_n at fixed ψ_p."""
    from ..plot.timescales import plot_scaling_curves, plot_scaling_times

    _progress("timescales and their scaling with psi_n", verbose)
    rep = scaling_study(problem)
    fig, axes = new_figure(1, 3, size=(5, 4))
    plot_scaling_curves(axes[0, 0], rep, "score_error", collapse_key="spectral")
    plot_scaling_curves(axes[0, 1], rep, "gen_loss", collapse_key="spectral")
    plot_scaling_times(axes[0, 2], rep, keys=("spectral",))
    fig.savefig(os.path.join(outdir, "timescales.png"), dpi=110)
    with open(os.path.join(outdir, "timescales.json"), "w") as fh:
        json.dump(rep.as_dict(), fh, default=str)
    rows = [{"psi_n": float(pn), "tau_gen (spectral)": float(g),
             "tau_mem (spectral)": float(m), "tau_mem/tau_gen": float(m / g)}
            for pn, g, m in zip(rep.psi_n, rep.tau_gen["spectral"], rep.tau_mem["spectral"])]
    ag, eg = rep.exponents["tau_gen"]["spectral"]
    am, em = rep.exponents["tau_mem"]["spectral"]
    ratio = rep.tau_mem["spectral"] / rep.tau_gen["spectral"]
    return {"title": f"Timescales across ψn at ψp = {rep.psi_p:g}",
            "figure": "timescales.png",
            "purpose": "the learning curves for several n at the paper's Fig. 5 setting, "
                       "their collapse against τ/τ_mem, and the two timescales",
            "params": {"psi_p": rep.psi_p, "psi_n": [float(v) for v in rep.psi_n],
                       "t": problem.t, "activation": problem.params()["activation"],
                       "sigma": problem.params()["sigma"], "d": "∞ (theory)"},
            "caption": ("Left, middle: E_score and L_gen against τ for each ψn; insets: the "
                        "same curves against τ/τ_mem (spectral), which collapse the "
                        "memorisation rise. Right: spectral τ_gen and τ_mem against ψn with "
                        "power-law fits."),
            "text": (f"With τ_gen = tau_gen_spectral and τ_mem = tau_mem_spectral: τ_gen ∝ "
                     f"ψn^{ag:.2f}±{eg:.2f}, τ_mem ∝ ψn^{am:.2f}±{em:.2f}; the window "
                     f"τ_mem/τ_gen grows from {ratio[0]:.3g} to {ratio[-1]:.3g}. Here ψn "
                     f"reaches ψp/2, so these fits mix the regimes; the claims section "
                     f"checks the scaling at ψp ≫ ψn, and the appendix lists the other "
                     f"definitions on this study."),
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
            "purpose": "where in (ψn, τ) the model is not yet generalising, generalising "
                       "or memorising",
            "params": {"psi_p": problem.psi_p,
                       "psi_n": f"{pm.psi_n[0]:.3g} … {pm.psi_n[-1]:.3g} ({pm.psi_n.size} values)",
                       "tau": f"{pm.y[0]:.3g} … {pm.y[-1]:.3g} ({pm.y.size} values)",
                       "t": problem.t, "activation": problem.params()["activation"],
                       "sigma": problem.params()["sigma"], "d": "∞ (theory)"},
            "caption": ("Phase labels of the d → ∞ theory over ψn (horizontal) and τ "
                        "(vertical), with the boundaries τ_gen, τ_mem and the leading order "
                        "τ_mem ≈ ψn/(Δ_t v_t²); legend below."),
            "text": "Labels: " + pm.thresholds.describe(), "rows": rows}


def _appendix_section(problem, d, seeds, outdir, verbose):
    """The other definitions of the timescales, on the timescale study."""
    return definitions_appendix(scaling_study(problem))


def _page(blocks):
    """Introduction, the sections, takeaways (before any appendix), the appendices."""
    claims = [c for b in blocks for c in b.get("claims", ())]
    main = [b for b in blocks if not b["title"].startswith("Appendix")]
    appendix = [b for b in blocks if b["title"].startswith("Appendix")]
    return ([introduction(blocks)] + main + ([takeaways(claims)] if claims else [])
            + appendix), claims


def make_report(outdir="rfdiff-report", problem: Problem | None = None, d: int = 100,
                seeds=(0, 1), sections=None, verbose: bool = True,
                executor=None) -> dict:
    """Run the default study and write figures, tables and an index page to ``outdir``.

    Args:
        outdir: output folder (created).
        problem: model (default ψ_p = 16, ψ_n = 4, t = 0.1, tanh, isotropic).
        d: dimension of the finite-size runs.
        seeds: seeds of the finite-size draws.
        sections: the sections, callables ``(problem, d, seeds, outdir, verbose) -> dict``
            with keys ``title``, ``figure`` (file name or None), ``text``, ``rows`` and
            optionally ``params`` (the section's parameter box), ``caption`` (of the
            figure), ``purpose`` (one line for the introduction), ``claims`` (checked
            claims), ``items`` (a list) (default :func:`default_sections`).
        verbose: print progress on stderr.
        executor: None (serial) or a ``concurrent.futures.Executor`` for the finite-size
            runs of the seed replicates (e.g. a spawn-context ``ProcessPoolExecutor`` or
            ``dask.distributed.Client(...).get_executor()``); the report does not depend on
            it.

    Returns:
        A summary dict (also written to ``outdir/summary.json``): ``parameters`` (the
        model and finite size), ``sections`` (each section's own parameters), ``claims``,
        ``versions``, ``run_time_s``, ``date``, ``summary`` (each section's text).
    """
    problem = problem or Problem(16, 4, 0.1, "tanh")
    if check_executor(executor) is not None:
        check_picklable(problem, "problem")
    os.makedirs(outdir, exist_ok=True)
    start = time.perf_counter()
    blocks = []
    shared.set_executor(executor)
    try:
        for section in (sections if sections is not None else default_sections()):
            blocks.append(section(problem, d, tuple(seeds), outdir, verbose))
    finally:
        shared.clear()  # the shared draws live for one report only
        shared.set_executor(None)
    page, claims = _page(blocks)
    summary = {b["title"]: b["text"] for b in blocks}
    elapsed = time.perf_counter() - start
    meta = {"parameters": {**problem.params(), "d": d, "seeds": list(seeds)},
            "sections": {b["title"]: b.get("params", {}) for b in blocks},
            "claims": claims, "versions": _versions(), "run_time_s": elapsed,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "summary": summary}
    write_index(outdir, page, meta)
    with open(os.path.join(outdir, "summary.json"), "w") as fh:
        json.dump(meta, fh, indent=2, default=str)
    _progress(f"done in {elapsed:.1f} s: {os.path.join(outdir, 'index.html')}", verbose)
    return meta


def default_sections():
    """The sections of the default report, in order."""
    return [claims_section, _spectrum_section, _curves_section, _timescales_section,
            _phase_section, _generation_section, real_data_section, _appendix_section]
