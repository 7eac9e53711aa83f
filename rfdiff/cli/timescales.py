"""``rfdiff timescales``: τ_gen and τ_mem, from the spectrum and from the curves."""

from __future__ import annotations


import numpy as np

from ._common import (add_command, add_ridge_flag, check_writable, dimension, emit,
                      problem_from_args, stage)
from .._timescales import TimescaleDefinitions

# the flags' defaults are the library's (one home: TimescaleDefinitions)
_D = TimescaleDefinitions()


def register(subparsers):
    p = add_command(subparsers, "timescales", size=False,
                    help="generalisation and memorisation timescales (spectral and from the "
                         "curves)")
    p.add_argument("--gen-factor", type=float, default=_D.gen_factor,
                   help="tau_gen_reached: first τ where E_score is within this factor of its "
                        f"minimum (> 1, default {_D.gen_factor:g})")
    p.add_argument("--mem-fraction", type=float, default=_D.mem_fraction,
                   help="tau_mem (curve): first τ where L_gen reaches this fraction of "
                        f"L_gen(∞) (in (0, 1), default {_D.mem_fraction:g})")
    p.add_argument("--gen-threshold", type=float, default=_D.gen_threshold,
                   help="tau_mem_threshold: first τ where L_gen reaches this value "
                        f"(> 0, default {_D.gen_threshold:g})")
    p.add_argument("--mem-factor", type=float, default=_D.mem_factor,
                   help="tau_mem_score: first τ after the minimum where E_score reaches this "
                        f"multiple of its minimum (> 1, default {_D.mem_factor:g})")
    add_ridge_flag(p)
    p.add_argument("--compare-d", type=dimension("compare-d"), metavar="D",
                   help="also measure the curve timescales on a finite-size instance "
                        "(exact method) of dimension D")
    p.set_defaults(func=run)


def run(args) -> int:
    from .._theory import asymptotic_curves
    from .._timescales import curve_grid, curve_timescales, timescales
    from .curves import finite_size_curves

    problem = problem_from_args(args)
    th = dict(gen_factor=args.gen_factor, gen_threshold=args.gen_threshold,
              mem_factor=args.mem_factor, mem_fraction=args.mem_fraction)
    TimescaleDefinitions.of(**th)  # every threshold checked before the compute
    check_writable(args)
    stage(args, "timescales: spectral structure, then the asymptotic curves")
    ts = timescales(problem, **th)
    out = {"tau_gen": ts.tau_gen, "tau_mem": ts.tau_mem,
           "curve": {k: v for k, v in ts.curve._asdict().items() if k != "definitions"},
           "parts": ts.parts, "definitions": ts.definitions, "notes": list(ts.notes),
           "local_exponents": ts.local_exponents}
    # the grid of timescales() (extended past the spectral timescales), and τ = ∞
    grid = np.append(curve_grid(ts.tau_gen, ts.tau_mem, ts.parts), np.inf)
    sim = None
    if args.compare_d is not None:
        stage(args, f"timescales: finite-size curves at d={args.compare_d}")
        sim = finite_size_curves(problem, args.compare_d, args.seed, grid)
        measured = curve_timescales(sim, **th)._asdict()
        measured.pop("definitions")
        out["finite_size"] = {**measured, "d": args.compare_d, "seed": args.seed}

    def figure():
        from ..plot import new_figure, plot_curves

        theory = asymptotic_curves(problem, grid).curves
        fig, axes = new_figure(1, 1, size=(7, 4.5))
        ax = plot_curves(axes[0, 0], theory, ("gen_loss", "score_error"))
        if sim is not None:
            plot_curves(ax, sim, ("gen_loss", "score_error"), marker=".", linestyle="none",
                        label_suffix=f" (d={args.compare_d})", alpha=0.5)
        ax.set_yscale("log")
        marks = [("τ_gen", ts.tau_gen["curve"], "C0"),
                 ("τ_gen (spectral)", ts.tau_gen["spectral"], "C0"),
                 ("τ_mem", ts.tau_mem["curve"], "C3"),
                 ("τ_mem (spectral)", ts.tau_mem["spectral"], "C3"),
                 ("τ_mem onset", ts.tau_mem["onset"], "C1")]
        for i, (name, val, col) in enumerate(marks):
            if np.isfinite(val):
                ax.axvline(val, color=col, linestyle="-" if i % 2 == 0 else ":", lw=1)
                ax.text(val, ax.get_ylim()[1], name, rotation=90, va="top", fontsize="x-small")
        return fig

    return emit(args, out, problem.params(), figure)
