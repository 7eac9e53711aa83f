"""``rfdiff timescales``: τ_gen and τ_mem, from the spectrum and from the curves."""

from __future__ import annotations

import numpy as np

from .main import common_parser, problem_from_args


def register(subparsers):
    p = subparsers.add_parser(
        "timescales", parents=[common_parser(with_size=False)],
        help="generalisation and memorisation timescales (spectral and from the curves)")
    p.add_argument("--gen-factor", type=float, default=2.0,
                   help="tau_gen_reached: E_score within this factor of its minimum")
    p.add_argument("--mem-fraction", type=float, default=0.5,
                   help="tau_mem (curve): L_gen reaches this fraction of L_gen(inf)")
    p.add_argument("--gen-threshold", type=float, default=0.1,
                   help="tau_mem_threshold: L_gen reaches this value")
    p.add_argument("--mem-factor", type=float, default=2.0,
                   help="tau_mem_score: E_score reaches this multiple of its minimum")
    p.add_argument("--compare-d", type=int, metavar="D",
                   help="also measure the curve timescales on a finite-size instance")
    p.set_defaults(func=run)


def run(args) -> dict:
    from .._theory.curves import asymptotic_curves
    from .._timescales.curve import curve_timescales
    from .._timescales.timescales import DEFAULT_TAU, timescales

    problem = problem_from_args(args)
    th = dict(gen_factor=args.gen_factor, gen_threshold=args.gen_threshold,
              mem_factor=args.mem_factor, mem_fraction=args.mem_fraction)
    ts = timescales(problem, **th)
    out = {"tau_gen": ts.tau_gen, "tau_mem": ts.tau_mem,
           "curve": {k: v for k, v in ts.curve._asdict().items() if k != "definitions"},
           "parts": ts.parts, "definitions": ts.definitions, "notes": list(ts.notes),
           "parameters": problem.params()}
    grid = np.append(DEFAULT_TAU, np.inf)
    sim = None
    if args.compare_d is not None:
        from .curves import finite_size_curves

        sim = finite_size_curves(problem, args.compare_d, args.seed, grid)
        out["finite_size"] = {**curve_timescales(sim, **th)._asdict(), "d": args.compare_d,
                              "seed": args.seed}
        out["finite_size"].pop("definitions")
    if args.plot:
        from ..plot.curves import new_figure, plot_curves

        theory = asymptotic_curves(problem, grid).curves
        fig, axes = new_figure(1, 1, size=(7, 4.5))
        ax = plot_curves(axes[0, 0], theory, ("gen_loss", "score_error"))
        if sim is not None:
            plot_curves(ax, sim, ("gen_loss", "score_error"), marker=".", linestyle="none",
                        label_suffix=f" (d={args.compare_d})", alpha=0.5)
        ax.set_yscale("log")
        marks = [("τ_gen", ts.tau_gen["curve"], "C0"), ("τ_gen (spectral)", ts.tau_gen["spectral"], "C0"),
                 ("τ_mem", ts.tau_mem["curve"], "C3"), ("τ_mem (spectral)", ts.tau_mem["spectral"], "C3"),
                 ("τ_mem onset", ts.tau_mem["onset"], "C1")]
        for i, (name, val, col) in enumerate(marks):
            if np.isfinite(val):
                ax.axvline(val, color=col, linestyle="-" if i % 2 == 0 else ":", lw=1)
                ax.text(val, ax.get_ylim()[1], name, rotation=90, va="top", fontsize="x-small")
        fig.savefig(args.plot, dpi=120)
    return out
