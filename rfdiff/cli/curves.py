"""``rfdiff curves``: asymptotic learning curves (the d → ∞ twin of ``simulate``)."""

from __future__ import annotations

from .simulate import add_tau_flags, tau_grid
from .main import common_parser, problem_from_args


def register(subparsers):
    p = subparsers.add_parser(
        "curves", parents=[common_parser(with_size=False)],
        help="asymptotic learning curves: train/test/gen loss and score error vs τ")
    add_tau_flags(p)
    p.add_argument("--compare-d", type=int, metavar="D",
                   help="also run a finite-size instance (exact method) of dimension D")
    p.set_defaults(func=run)


def finite_size_curves(problem, d, seed, tau):
    """Finite-size learning curves (exact method) on the same grid."""
    from .._finite.flow import gradient_flow, learning_curves
    from .._finite.instance import finite_size_instance
    from .._common.validation import positive_int

    inst = finite_size_instance(problem, positive_int("compare-d", d), seed=seed)
    return learning_curves(gradient_flow(inst), tau)


def run(args) -> dict:
    from .._theory.curves import asymptotic_curves

    problem = problem_from_args(args)
    tau = tau_grid(args)
    res = asymptotic_curves(problem, tau)
    out = res.curves.as_dict()
    out["method"] = "asymptotic"
    out["converged"] = res.converged.tolist()
    out["parameters"] = problem.params()
    sim = None
    if args.compare_d is not None:
        sim = finite_size_curves(problem, args.compare_d, args.seed, tau)
        out["finite_size"] = {**sim.as_dict(), "d": args.compare_d, "seed": args.seed}
    if args.plot:
        from ..plot.curves import new_figure, plot_curves

        fig, axes = new_figure(1, 2)
        plot_curves(axes[0, 0], res.curves, ("train_loss", "test_loss"), label_suffix=" (d→∞)")
        plot_curves(axes[0, 1], res.curves, ("score_error",), label_suffix=" (d→∞)")
        if sim is not None:
            for ax, keys in ((axes[0, 0], ("train_loss", "test_loss")),
                             (axes[0, 1], ("score_error",))):
                plot_curves(ax, sim, keys, marker="o", linestyle="none",
                            label_suffix=f" (d={args.compare_d})", alpha=0.6)
        axes[0, 1].set_yscale("log")
        fig.suptitle(f"ψp={problem.psi_p:g}, ψn={problem.psi_n:g}, t={problem.t:g}, "
                     f"{problem.activation.name}, Σ: {problem.spectrum.label()}")
        fig.savefig(args.plot, dpi=120)
    return out
