"""``rfdiff simulate``: finite-size learning curves of one draw."""

from __future__ import annotations

import numpy as np

from .main import common_parser, problem_from_args


def tau_grid(args) -> np.ndarray:
    """Log-spaced τ grid from ``--tau-min --tau-max --points`` (validated)."""
    from .._common.validation import positive, positive_int

    lo = positive("tau-min", args.tau_min)
    hi = positive("tau-max", args.tau_max)
    points = positive_int("points", args.points)
    if hi <= lo:
        raise ValueError(f"tau-max must exceed tau-min, got {hi!r} <= {lo!r}")
    return np.logspace(np.log10(lo), np.log10(hi), points)


def add_tau_flags(p, points=100):
    g = p.add_argument_group("training-time grid")
    g.add_argument("--tau-min", type=float, default=0.1, help="smallest τ (default 0.1)")
    g.add_argument("--tau-max", type=float, default=1e5, help="largest τ (default 1e5)")
    g.add_argument("--points", type=int, default=points, help=f"grid points (default {points})")


def register(subparsers):
    p = subparsers.add_parser(
        "simulate", parents=[common_parser(with_size=True)],
        help="finite-size learning curves: train/test/gen loss and score error vs τ")
    p.add_argument("--method", default="exact",
                   choices=("exact", "monte_carlo", "gaussian_equivalent"),
                   help="how U, V are built (default exact)")
    p.add_argument("--noise-draws", type=int, default=100,
                   help="noise draws per point for --method monte_carlo (default 100)")
    add_tau_flags(p)
    p.set_defaults(func=run)


def run(args) -> dict:
    from .._finite.flow import gradient_flow, learning_curves
    from .._finite.instance import finite_size_instance

    problem = problem_from_args(args)
    tau = tau_grid(args)
    inst = finite_size_instance(problem, args.d, seed=args.seed, method=args.method,
                                noise_draws=args.noise_draws)
    curves = learning_curves(gradient_flow(inst), tau)
    out = curves.as_dict()
    out["method"] = args.method
    out["parameters"] = {**problem.params(), "d": args.d, "p": inst.p, "n": inst.n,
                         "seed": args.seed, **{k: v for k, v in inst.info.items()
                                               if k != "method"}}
    if args.plot:
        from ..plot.curves import new_figure, plot_curves

        fig, axes = new_figure()
        ax = plot_curves(axes[0, 0], curves, ("train_loss", "test_loss", "score_error"))
        ax.set_yscale("log")
        ax.set_title(f"d={args.d}, ψp={problem.psi_p:g}, ψn={problem.psi_n:g}, "
                     f"t={problem.t:g}, {problem.activation.name} ({args.method})")
        fig.savefig(args.plot, dpi=120)
    return out
