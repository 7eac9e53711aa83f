"""``rfdiff simulate``: finite-size learning curves of one draw.

With ``--data FILE.npy`` the training points are read from a file (n × d, one point per
row) instead of drawn; ``--test-data`` gives held-out points for the population matrices
and ``--features`` the weights W (p × d). Sizes come from the files: ``--d``, ``--psi-n``
and ``--psi-p`` default to the file's d, n/d and p/d, and explicit values must agree. With
``--test-data`` the output adds ``test_loss_err``, ``gen_loss_err`` and ``score_error_err``:
the statistical error of the held-out losses (:func:`rfdiff.tools.held_out_error`).
"""

from __future__ import annotations


import math

from ._common import (add_command, add_ridge_flag, add_samples_flag, add_tau_flags,
                      check_writable, emit, load_array, problem_from_args, sizes_from_arrays,
                      stage, tau_grid)

TAU_MAX = 1e5


def register(subparsers):
    p = add_command(subparsers, "simulate", size=True,
                    help="finite-size learning curves: train/test/gen loss and score error vs τ")
    p.add_argument("--method", default="exact",
                   choices=("exact", "monte_carlo", "gaussian_equivalent"),
                   help="how U, V are built (default exact)")
    add_ridge_flag(p)
    add_samples_flag(p, "; finite M: the M-sample model with M fixed draws per point "
                        "(--method monte_carlo or gaussian_equivalent)")
    p.add_argument("--noise-draws", type=int, default=None,
                   help="noise draws per point for --method monte_carlo (default 100)")
    g = p.add_argument_group("given arrays (.npy files)")
    g.add_argument("--data", metavar="FILE",
                   help="training points, an (n, d) array: d and psi_n default to the file's")
    g.add_argument("--test-data", metavar="FILE",
                   help="held-out points (N, d), N >= 10, for the population matrices "
                        "(needs --data); default: the Gaussian law of --sigma")
    g.add_argument("--features", metavar="FILE",
                   help="feature weights W, a (p, d) array with N(0, 1)-scaled entries: "
                        "psi_p defaults to the file's p/d")
    add_tau_flags(p, tau_min=0.1, tau_max=TAU_MAX, points=100)
    # None marks "not given", so that the files can supply the sizes (sizes_from_arrays)
    p.set_defaults(func=run, d=None, psi_n=None, psi_p=None)


def run(args) -> int:
    from .._finite import (finite_size_instance, given_arrays, gradient_flow, held_out_error,
                           learning_curves)

    X = load_array("data", args.data) if args.data else None
    X_test = load_array("test-data", args.test_data) if args.test_data else None
    W = load_array("features", args.features) if args.features else None
    if X_test is not None and X is None:
        raise ValueError("--test-data needs --data (held-out points of the same data)")
    sizes_from_arrays(args, X, W)
    problem = problem_from_args(args)
    p = problem.sizes(args.d)[0]
    # the flow's (T, p) mode weights (learning_curves plans the same)
    tau = tau_grid(args, TAU_MAX, 12 * 8 * p, f"learning curves (p={p})")
    if args.noise_draws is not None and args.method != "monte_carlo":
        raise ValueError(f"--noise-draws is used by --method monte_carlo only, got "
                         f"--method {args.method}")
    finite_m = not math.isinf(problem.noise_samples)
    if finite_m and args.method == "exact":
        raise ValueError(f"--m {problem.noise_samples} is the model with M fixed noise draws "
                         "per point: use --method monte_carlo (or gaussian_equivalent); "
                         "--method exact averages the noise exactly (--m inf)")
    if finite_m and args.noise_draws is not None:
        raise ValueError(f"--noise-draws {args.noise_draws}: with --m the draws per point are "
                         f"--m {problem.noise_samples}; give one of the two")
    noise_draws = None if finite_m or args.noise_draws is None else args.noise_draws
    check_writable(args)
    if X is not None or W is not None:
        given_arrays(problem, args.d, X, W, X_test)  # the array checks, before any output
    stage(args, f"simulate: {args.method} matrices at d={args.d}")
    inst = finite_size_instance(problem, args.d, seed=args.seed, method=args.method,
                                noise_draws=noise_draws, X=X, W=W, X_test=X_test)
    stage(args, f"simulate: gradient flow (p={inst.p}) and {tau.size} curve points")
    flow = gradient_flow(inst)
    curves = learning_curves(flow, tau)
    # with held-out points, the statistical error of the held-out losses (half split)
    errors = {} if X_test is None else {
        k: v for k, v in held_out_error(flow, tau).as_dict().items() if k.endswith("_err")}
    files = {k: v for k, v in (("data", args.data), ("test_data", args.test_data),
                               ("features", args.features)) if v}
    parameters = {**problem.params(), "d": args.d, "p": inst.p, "n": inst.n, "seed": args.seed,
                  **files, **{k: v for k, v in inst.info.items() if k != "method"}}

    def figure():
        from ..plot import new_figure, plot_curves

        fig, axes = new_figure()
        ax = plot_curves(axes[0, 0], curves, ("train_loss", "test_loss", "score_error"))
        ax.set_yscale("log")
        ax.set_title(f"d={args.d}, ψp={problem.psi_p:g}, ψn={problem.psi_n:g}, "
                     f"t={problem.t:g}, {problem.activation.name} ({args.method})")
        return fig

    return emit(args, {**curves.as_dict(), **errors, "method": args.method}, parameters,
                figure)
