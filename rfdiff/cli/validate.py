"""``rfdiff validate``: the theory against finite sizes extrapolated to d → ∞.

Runs the finite-size twin (exact flow) over a ladder of d and seeds, fits a + b/d
(+ c/d² when the data support it) and prints the extrapolated learning curves and the
spectrum's W₁ beside the theory. Progress goes to stderr, one line per finished run.
"""

from __future__ import annotations

import sys
import time

from ._common import (add_command, add_tau_flags, add_workers_flag, dimension, emit,
                      problem_from_args, process_pool, tau_grid)

TAU_MAX = 1e5


def sizes(text: str) -> tuple[int, ...]:
    """Argument type of ``--d``: a comma-separated list of positive integers.

    Raises:
        argparse.ArgumentTypeError: for an empty item or one that is not a positive
            integer.
    """
    convert = dimension("d")
    return tuple(convert(item.strip()) for item in text.split(","))


def register(subparsers):
    p = add_command(subparsers, "validate", size=False,
                    help="finite sizes over a ladder of d, extrapolated to d → ∞, vs the theory")
    p.add_argument("--d", type=sizes, default=(50, 100, 200), metavar="D1,D2,...",
                   help="the ladder of dimensions (default 50,100,200; four or more allow "
                        "the c/d² term)")
    p.add_argument("--seeds", type=dimension("seeds"), default=2,
                   help="draws per size: --seed, --seed + 1, ... (default 2)")
    p.add_argument("--method", default="exact",
                   choices=("exact", "monte_carlo", "gaussian_equivalent"),
                   help="how U, V are built (default exact)")
    add_workers_flag(p)
    add_tau_flags(p, tau_min=0.1, tau_max=TAU_MAX, points=40,
                  tau_max_help=f"largest finite τ (default {TAU_MAX:g}); τ = ∞ is always "
                               "added as the last point")
    p.set_defaults(func=run)


def _progress(start):
    def report(done, total, run):
        print(f"rfdiff validate: run {done}/{total} done (d={run['d']}, seed {run['seed']}), "
              f"{time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return report


def _summary(res) -> dict:
    """The printed (non-JSON) result: the largest deviation of each quantity and W₁."""
    out = {"d": list(res.d), "seeds": len(res.seeds), "tau points": len(res.tau)}
    for name in res.theory:
        m = res.max_deviation(name)
        out[f"{name} max relative deviation"] = (
            f"{m['relative_deviation']:+.2e} ± {m['uncertainty']:.1e} at τ = {m['tau']:.3g}")
    w1 = res.w1.mean(axis=1)
    out["W1 per d"] = ", ".join(f"{v:.3g}" for v in w1)
    out["W1 extrapolated"] = f"{res.w1_fit.value[0]:.2e} ± {res.w1_fit.uncertainty[0]:.1e}"
    for e in res.timescales:
        out[e["name"]] = (f"theory {e['theory']:.4g}, extrapolated {e['extrapolated']:.4g} "
                          f"± {e['uncertainty']:.2g}")
    return out


def run(args) -> int:
    from .._validation import validate

    problem = problem_from_args(args)
    tau = tau_grid(args, TAU_MAX)
    progress = None if args.quiet else _progress(time.perf_counter())
    pool = process_pool(args.workers)
    try:
        res = validate(problem, args.d, args.seeds, tau, pool, seed=args.seed,
                       method=args.method, progress=progress)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    out = res.as_dict() if args.json else _summary(res)

    def figure():
        from ..plot import new_figure, plot_validation

        fig, axes = new_figure(2, 2)
        for ax, name in zip(axes.ravel(), ("train_loss", "test_loss", "score_error", "w1")):
            plot_validation(ax, res, name)
        return fig

    return emit(args, out, {**problem.params(), "method": args.method}, figure)
