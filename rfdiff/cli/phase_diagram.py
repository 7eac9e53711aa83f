"""``rfdiff phase-diagram``: generalisation/memorisation maps from the theory."""

from __future__ import annotations

import numpy as np

from .main import common_parser, problem_from_args


def register(subparsers):
    p = subparsers.add_parser(
        "phase-diagram", parents=[common_parser(with_size=False)],
        help="phase map over (psi_n, tau) at fixed psi_p, or over (psi_n, psi_p) with --tau")
    p.add_argument("--tau", type=float, help="map (psi_n, psi_p) at this training time")
    p.add_argument("--psi-n-min", type=float, default=0.5)
    p.add_argument("--psi-n-max", type=float, default=256.0)
    p.add_argument("--psi-p-min", type=float, default=2.0, help="(--tau maps)")
    p.add_argument("--psi-p-max", type=float, default=1024.0, help="(--tau maps)")
    p.add_argument("--tau-min", type=float, default=1.0, help="(maps over tau)")
    p.add_argument("--tau-max", type=float, default=1e6, help="(maps over tau)")
    p.add_argument("--points", type=int, default=24, help="grid points per axis (default 24)")
    p.add_argument("--gen-factor", type=float, default=2.0)
    p.add_argument("--mem-fraction", type=float, default=0.5)
    p.add_argument("--mem-threshold", type=float, default=0.25)
    p.add_argument("--confirm-d", type=int, metavar="D",
                   help="confirm points of the map by finite-size runs of dimension D")
    p.add_argument("--confirm-points", type=int, default=10,
                   help="number of points to confirm (default 10)")
    p.add_argument("--confirm-factor", type=float, default=2.0,
                   help="confirm points this factor away from the theory boundaries, on "
                        "both sides (default 2)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=run)


def _grid(lo, hi, n, name):
    from .._common.validation import positive, positive_int

    lo, hi, n = positive(f"{name}-min", lo), positive(f"{name}-max", hi), positive_int("points", n)
    if hi <= lo:
        raise ValueError(f"{name}-max must exceed {name}-min, got {hi!r} <= {lo!r}")
    return np.logspace(np.log10(lo), np.log10(hi), n)


def confirmation_points(pmap, k, factor=2.0):
    """k points straddling the boundary curves, ``factor`` away on both sides."""
    from .._phase.confirm import boundary_points

    return boundary_points(pmap, factor, max_points=k)


def run(args) -> dict:
    from .._phase.maps import PhaseThresholds, phase_map_size, phase_map_time

    problem = problem_from_args(args)
    th = PhaseThresholds(args.gen_factor, args.mem_fraction, args.mem_threshold)
    psi_n = _grid(args.psi_n_min, args.psi_n_max, args.points, "psi-n")
    if args.tau is not None:
        psi_p = _grid(args.psi_p_min, args.psi_p_max, args.points, "psi-p")
        pmap = phase_map_size(problem, psi_n, psi_p, args.tau, th, progress=not args.quiet)
    else:
        tau = _grid(args.tau_min, args.tau_max, args.points, "tau")
        pmap = phase_map_time(problem, psi_n, tau, th, progress=not args.quiet)
    import jax

    out = {**pmap.as_dict(), "parameters": problem.params(),
           "devices": [str(d) for d in jax.devices()]}
    if args.confirm_d is not None:
        from .._phase.confirm import confirm_points

        rows = confirm_points(pmap, confirmation_points(pmap, args.confirm_points,
                                                        args.confirm_factor),
                              d=args.confirm_d, seed=args.seed)
        out["confirmation_factor"] = args.confirm_factor
        out["confirmation"] = rows
        out["confirmation_agreement"] = float(np.mean([r["agree"] for r in rows]))
    if args.plot:
        from ..plot.curves import new_figure
        from ..plot.phase import label_legend_handles, plot_phase_size, plot_phase_time

        if args.tau is None:
            fig, axes = new_figure(1, 1, size=(7, 5))
            plot_phase_time(axes[0, 0], pmap)
        else:
            fig, axes = new_figure(1, 2, size=(6, 5))
            art = plot_phase_size(axes[0, 0], pmap, "gen_loss")
            fig.colorbar(art, ax=axes[0, 0], label="L_gen")
            plot_phase_size(axes[0, 1], pmap, "label")
        fig.legend(handles=label_legend_handles(), loc="outside lower center", ncols=3,
                   fontsize="x-small")
        fig.savefig(args.plot, dpi=120)
    return out
