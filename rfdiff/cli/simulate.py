"""``rfdiff simulate``: finite-size learning curves of one draw."""

from __future__ import annotations

from ._common import add_command, add_tau_flags, emit, problem_from_args, tau_grid

TAU_MAX = 1e5


def register(subparsers):
    p = add_command(subparsers, "simulate", size=True,
                    help="finite-size learning curves: train/test/gen loss and score error vs τ")
    p.add_argument("--method", default="exact",
                   choices=("exact", "monte_carlo", "gaussian_equivalent"),
                   help="how U, V are built (default exact)")
    p.add_argument("--noise-draws", type=int, default=100,
                   help="noise draws per point for --method monte_carlo (default 100)")
    add_tau_flags(p, tau_min=0.1, tau_max=TAU_MAX, points=100)
    p.set_defaults(func=run)


def run(args) -> int:
    from .._finite import finite_size_instance, gradient_flow, learning_curves

    problem = problem_from_args(args)
    tau = tau_grid(args, TAU_MAX)
    inst = finite_size_instance(problem, args.d, seed=args.seed, method=args.method,
                                noise_draws=args.noise_draws)
    curves = learning_curves(gradient_flow(inst), tau)
    parameters = {**problem.params(), "d": args.d, "p": inst.p, "n": inst.n, "seed": args.seed,
                  **{k: v for k, v in inst.info.items() if k != "method"}}

    def figure():
        from ..plot import new_figure, plot_curves

        fig, axes = new_figure()
        ax = plot_curves(axes[0, 0], curves, ("train_loss", "test_loss", "score_error"))
        ax.set_yscale("log")
        ax.set_title(f"d={args.d}, ψp={problem.psi_p:g}, ψn={problem.psi_n:g}, "
                     f"t={problem.t:g}, {problem.activation.name} ({args.method})")
        return fig

    return emit(args, {**curves.as_dict(), "method": args.method}, parameters, figure)
