"""``rfdiff curves``: asymptotic learning curves (the d → ∞ twin of ``simulate``)."""

from __future__ import annotations


import math

from ._common import (add_command, add_ridge_flag, add_samples_flag, add_tau_flags,
                      check_writable, dimension, emit, problem_from_args, stage, tau_grid)

TAU_MAX = 1e5


def register(subparsers):
    p = add_command(subparsers, "curves", size=False,
                    help="asymptotic learning curves: train/test/gen loss and score error vs τ")
    add_tau_flags(p, tau_min=0.1, tau_max=TAU_MAX, points=100)
    add_ridge_flag(p)
    add_samples_flag(p, "; finite M: the curves of the M-sample model (tau = inf needs "
                        "--ridge > 0)")
    p.add_argument("--compare-d", type=dimension("compare-d"), metavar="D",
                   help="also run a finite-size instance of dimension D (exact method; "
                        "monte_carlo with M fixed draws per point for finite --m)")
    p.set_defaults(func=run)


def finite_size_curves(problem, d: int, seed: int, tau):
    """Finite-size learning curves on the same grid (exact method; for finitely many noise
    samples the monte_carlo construction with those draws, the m-sample model).

    Args:
        problem: the model.
        d: the dimension.
        seed: seed of the draw.
        tau: the training times (``inf`` allowed).

    Returns:
        :class:`rfdiff.Curves`.
    """
    from .._finite import finite_size_instance, gradient_flow, learning_curves

    method = "exact" if math.isinf(problem.noise_samples) else "monte_carlo"
    inst = finite_size_instance(problem, d, seed=seed, method=method)
    return learning_curves(gradient_flow(inst), tau)


def run(args) -> int:
    from .._theory import asymptotic_curves

    problem = problem_from_args(args)
    tau = tau_grid(args, TAU_MAX)
    check_writable(args)
    res = asymptotic_curves(problem, tau)
    out = {**res.curves.as_dict(), "method": "asymptotic",
           "converged": res.converged.tolist()}
    sim = None
    if args.compare_d is not None:
        stage(args, f"curves: finite-size curves at d={args.compare_d}")
        sim = finite_size_curves(problem, args.compare_d, args.seed, tau)
        out["finite_size"] = {**sim.as_dict(), "d": args.compare_d, "seed": args.seed}

    def figure():
        from ..plot import new_figure, plot_curves

        fig, axes = new_figure(1, 2)
        panels = ((axes[0, 0], ("train_loss", "test_loss")), (axes[0, 1], ("score_error",)))
        for ax, keys in panels:
            plot_curves(ax, res.curves, keys, label_suffix=" (d→∞)")
            if sim is not None:
                plot_curves(ax, sim, keys, marker="o", linestyle="none",
                            label_suffix=f" (d={args.compare_d})", alpha=0.6)
        axes[0, 1].set_yscale("log")
        fig.suptitle(f"ψp={problem.psi_p:g}, ψn={problem.psi_n:g}, t={problem.t:g}, "
                     f"{problem.activation.name}, Σ: {problem.spectrum.label()}")
        return fig

    return emit(args, out, problem.params(), figure)
