"""``rfdiff generate``: generate from the learned score at each training time and measure.

The score is trained (in closed form) at every time of a diffusion-time grid
(``--t-min``, ``--t-max``, ``--times``); the sampler runs over that same range, so the
shared ``--t`` flag is not used here. Size defaults differ from the other subcommands:
``--d 32 --psi-p 32 --psi-n 0.5`` (p = 1024, n = 16; docs/generation.md).
"""

from __future__ import annotations

import numpy as np

from ._common import (add_command, add_ridge_flag, add_tau_flags, check_writable, emit, number,
                      problem_from_args, progress, seed, tau_grid)

# The experiment's documented default size and τ grid (docs/generation.md).
DEFAULTS = dict(d=32, psi_p=32.0, psi_n=0.5, tau_min=10.0, tau_max=1e8, points=15)
TAU_MAX = DEFAULTS["tau_max"]


def register(subparsers):
    p = add_command(subparsers, "generate", size=True, defaults=DEFAULTS,
                    help="samples from the learned score over training time: f_mem and "
                         "quality vs τ",
                    description=" ".join(__doc__.split("\n\n")[1].split()))
    add_ridge_flag(p)
    g = add_tau_flags(p, tau_min=DEFAULTS["tau_min"], tau_max=TAU_MAX,
                      points=DEFAULTS["points"], tau_max_help=(
                          f"largest finite τ (default {number(TAU_MAX)}); τ = ∞ follows "
                          f"unless --no-infinity, so inf means the default, {number(TAU_MAX)}"))
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
    s.add_argument("--sample-seed", type=seed("sample-seed"), default=1,
                   help="seed of the sampler noise, bootstrap and slices (default 1)")
    s.add_argument("--threshold", type=float, default=1.0 / 3.0,
                   help="f_mem distance-ratio threshold (default 1/3)")
    s.add_argument("--bootstrap", type=int, default=1000,
                   help="bootstrap resamples for f_mem's error (default 1000)")
    s.add_argument("--level", type=float, default=0.1,
                   help="f_mem level defining the onset time (default 0.1)")
    p.set_defaults(func=run)


def _tau_grid(args) -> np.ndarray:
    """The finite grid, then τ = ∞ unless ``--no-infinity``."""
    # the samples are measured one τ at a time: the grid itself allocates nothing large
    tau = tau_grid(args, TAU_MAX, bytes_per_point=0)
    ends_at_inf = bool(np.isinf(tau[-1]))  # --tau-max inf
    if ends_at_inf and args.no_infinity:
        raise ValueError("--tau-max inf contradicts --no-infinity")
    return tau if ends_at_inf or args.no_infinity else np.append(tau, np.inf)


def _check_settings(args) -> None:
    """The sampler and metric settings, checked before the score field is trained."""
    from .._common import finite, positive_int

    for flag in ("samples", "steps", "bootstrap"):
        positive_int(flag, getattr(args, flag))
    if not 0 < finite("threshold", args.threshold) <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {args.threshold!r}")
    if not 0 < finite("level", args.level) < 1:
        raise ValueError(f"level must be in (0, 1), got {args.level!r}")
    check_writable(args)


def run(args) -> int:
    from .._common import positive_int
    from .._generation import diffusion_times, generation_curve, score_field

    problem = problem_from_args(args)
    tau = _tau_grid(args)
    times = diffusion_times(args.t_min, args.t_max, positive_int("times", args.times))
    _check_settings(args)
    field = score_field(problem, args.d, times, seed=args.seed, method=args.method,
                        progress=progress(args, "score field: diffusion times"))
    curve = generation_curve(field, tau, n_samples=args.samples,
                             sample_seed=args.sample_seed, sampler=args.sampler,
                             steps=args.steps, schedule=args.schedule,
                             threshold=args.threshold, bootstrap=args.bootstrap,
                             progress=progress(args, "generation: training times"))
    out = {**curve.as_dict(), "onset": curve.onset(args.level), "level": args.level}
    # the score is trained over [t_min, t_max], so the shared diffusion time t is dropped
    parameters = {**{k: v for k, v in problem.params().items() if k != "t"},
                  "d": field.d, "p": field.p, "n": field.n, "seed": args.seed,
                  "t_min": args.t_min, "t_max": args.t_max, "times": args.times}

    def figure():
        from ..plot import new_figure, plot_memorisation, plot_quality

        fig, axes = new_figure(1, 2)
        plot_memorisation(axes[0, 0], curve, level=args.level)
        plot_quality(axes[0, 1], curve, "gaussian_kl")
        axes[0, 0].set_title(f"d={field.d}, p={field.p}, n={field.n}, "
                             f"{problem.activation.name}, seed {args.seed}")
        axes[0, 1].set_title(f"{args.sampler}, {args.steps} steps, {args.samples} samples")
        return fig

    return emit(args, out, parameters, figure)
