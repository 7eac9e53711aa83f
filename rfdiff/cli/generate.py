"""``rfdiff generate``: generate from the learned score at each training time and measure.

The score is trained (in closed form) at every time of a diffusion-time grid
(``--t-min``, ``--t-max``, ``--times``); the sampler runs over that same range, so the
shared ``--t`` flag is not used here. Size defaults differ from the other subcommands:
``--d 32 --psi-p 32 --psi-n 0.5`` (p = 1024, n = 16; docs/generation.md).
"""

from __future__ import annotations

import numpy as np

from .main import common_parser, problem_from_args

# The experiment's documented default size (docs/generation.md).
DEFAULTS = dict(d=32, psi_p=32.0, psi_n=0.5, tau_min=10.0, tau_max=1e8, points=15)


def register(subparsers):
    p = subparsers.add_parser(
        "generate", parents=[common_parser(with_size=True)],
        help="samples from the learned score over training time: f_mem and quality vs τ",
        description=" ".join(__doc__.split("\n\n")[1].split()))
    g = p.add_argument_group("training-time grid")
    g.add_argument("--tau-min", type=float, help="smallest τ (default 10)")
    g.add_argument("--tau-max", type=float, help="largest finite τ (default 1e8)")
    g.add_argument("--points", type=int, help="log-spaced τ points (default 15)")
    g.add_argument("--no-infinity", action="store_true", help="do not append τ = ∞")
    f = p.add_argument_group("score field")
    f.add_argument("--t-min", type=float, default=1e-3,
                   help="smallest diffusion time, where sampling stops (default 1e-3)")
    f.add_argument("--t-max", type=float, default=5.0,
                   help="largest diffusion time, where sampling starts (default 5)")
    f.add_argument("--times", type=int, default=24,
                   help="log-spaced diffusion times of the score field (default 24)")
    f.add_argument("--method", default="exact",
                   choices=("exact", "gaussian_equivalent"),
                   help="how U, V are built at each time (default exact)")
    s = p.add_argument_group("sampler and metrics")
    s.add_argument("--samples", type=int, default=1000, help="samples per τ (default 1000)")
    s.add_argument("--sampler", default="exponential",
                   choices=("exponential", "euler_maruyama", "heun", "euler"),
                   help="reverse-time SDE (exponential, euler_maruyama) or "
                        "probability-flow ODE (heun, euler); default exponential")
    s.add_argument("--steps", type=int, default=200, help="sampler steps (default 200)")
    s.add_argument("--schedule", default="log_snr", choices=("log_snr", "log", "uniform"),
                   help="sampler time grid (default log_snr)")
    s.add_argument("--sample-seed", type=int, default=1,
                   help="seed of the sampler noise, bootstrap and slices (default 1)")
    s.add_argument("--threshold", type=float, default=1.0 / 3.0,
                   help="f_mem distance-ratio threshold (default 1/3)")
    s.add_argument("--bootstrap", type=int, default=1000,
                   help="bootstrap resamples for f_mem's error (default 1000)")
    s.add_argument("--level", type=float, default=0.1,
                   help="f_mem level defining the onset time (default 0.1)")
    p.set_defaults(func=run, **DEFAULTS)


def _tau_grid(args) -> np.ndarray:
    from .simulate import tau_grid

    tau = tau_grid(args)
    return tau if args.no_infinity else np.concatenate([tau, [np.inf]])


def run(args) -> dict:
    from .._generation.study import generation_curve
    from .._generation.score_field import diffusion_times, score_field
    from .._common.validation import positive_int

    problem = problem_from_args(args)
    tau = _tau_grid(args)
    times = diffusion_times(args.t_min, args.t_max, positive_int("times", args.times))
    field = score_field(problem, positive_int("d", args.d), times, seed=args.seed,
                        method=args.method)
    curve = generation_curve(field, tau, n_samples=args.samples,
                             sample_seed=args.sample_seed, method=args.sampler,
                             steps=args.steps, schedule=args.schedule,
                             threshold=args.threshold, bootstrap=args.bootstrap)
    out = curve.as_dict()
    out["onset"] = curve.onset(args.level)
    out["level"] = args.level
    out["parameters"] = {**problem.params(), "d": field.d, "p": field.p, "n": field.n,
                         "seed": args.seed, "t_min": args.t_min, "t_max": args.t_max,
                         "times": args.times}
    del out["parameters"]["t"]
    if args.plot:
        from ..plot.curves import new_figure
        from ..plot.generation import plot_memorisation, plot_quality

        fig, axes = new_figure(1, 2)
        plot_memorisation(axes[0, 0], curve, level=args.level)
        plot_quality(axes[0, 1], curve, "gaussian_kl")
        axes[0, 0].set_title(f"d={field.d}, p={field.p}, n={field.n}, "
                             f"{problem.activation.name}, seed {args.seed}")
        axes[0, 1].set_title(f"{args.sampler}, {args.steps} steps, {args.samples} samples")
        fig.savefig(args.plot, dpi=120)
    return out
