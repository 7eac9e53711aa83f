"""``rfdiff phase-diagram``: generalisation/memorisation maps from the theory."""

from __future__ import annotations

import sys

import numpy as np

from ._common import (add_command, add_ridge_flag, check_writable, dimension, emit, log_grid,
                      problem_from_args)
from .._timescales import TimescaleDefinitions

# the flags' defaults are the library's (one home: TimescaleDefinitions)
_D = TimescaleDefinitions()
# grid ends of one kind of map only: given with the other kind, they would be ignored
_TIME_MAP_ONLY = dict(tau_min=1.0, tau_max=1e6)
_SIZE_MAP_ONLY = dict(psi_p_min=2.0, psi_p_max=1024.0)


def register(subparsers):
    p = add_command(subparsers, "phase-diagram", size=False,
                    help="phase map over (psi_n, tau) at fixed psi_p, or over (psi_n, psi_p) "
                         "with --tau")
    p.add_argument("--tau", type=float,
                   help="map (psi_n, psi_p) at this finite training time (default: map over "
                        "(psi_n, tau) at --psi-p)")
    add_ridge_flag(p)
    g = p.add_argument_group("grid (log-spaced, --points per axis)")
    g.add_argument("--psi-n-min", type=float, default=0.5, help="smallest psi_n (default 0.5)")
    g.add_argument("--psi-n-max", type=float, default=256.0, help="largest psi_n (default 256)")
    g.add_argument("--psi-p-min", type=float, default=None,
                   help="smallest psi_p, for --tau maps (default 2)")
    g.add_argument("--psi-p-max", type=float, default=None,
                   help="largest psi_p, for --tau maps (default 1024)")
    g.add_argument("--tau-min", type=float, default=None,
                   help="smallest τ, for maps over τ (default 1)")
    g.add_argument("--tau-max", type=float, default=None,
                   help="largest τ, for maps over τ (default 1e6); finite, since every map "
                        "computes L_gen(τ = ∞) as its reference")
    g.add_argument("--points", type=int, default=24, help="grid points per axis (default 24)")
    t = p.add_argument_group("phase thresholds")
    t.add_argument("--gen-factor", type=float, default=_D.gen_factor,
                   help="generalising once E_score is within this factor of its minimum over "
                        f"τ (default {_D.gen_factor:g})")
    t.add_argument("--mem-fraction", type=float, default=_D.mem_fraction,
                   help="memorising when L_gen reaches this fraction of L_gen(∞) (in (0, 1), "
                        f"default {_D.mem_fraction:g}) ...")
    t.add_argument("--mem-threshold", type=float, default=_D.mem_threshold,
                   help=f"... and at least this value (default {_D.mem_threshold:g})")
    c = p.add_argument_group("finite-size confirmation")
    c.add_argument("--confirm-d", type=dimension("confirm-d"), metavar="D",
                   help="confirm points of the map by finite-size runs of dimension D")
    c.add_argument("--confirm-points", type=int, default=10,
                   help="number of points to confirm (default 10)")
    c.add_argument("--confirm-factor", type=float, default=2.0,
                   help="confirm points this factor away from the theory boundaries, on "
                        "both sides (default 2)")
    # --quiet (no progress display) is one of the shared output flags
    p.set_defaults(func=run)


def confirmation_points(pmap, k, factor=2.0):
    """k points straddling the boundary curves, ``factor`` away on both sides."""
    from .._phase import boundary_points

    return boundary_points(pmap, factor, max_points=k)


def _grid_ends(args) -> None:
    """Fill the grid ends of the chosen map; refuse those of the other map."""
    unused, used = (_TIME_MAP_ONLY, _SIZE_MAP_ONLY) if args.tau is not None else \
        (_SIZE_MAP_ONLY, _TIME_MAP_ONLY)
    given = [k for k in unused if getattr(args, k) is not None]
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        kind = "--tau maps (psi_n, psi_p)" if args.tau is not None else \
            "maps over (psi_n, tau), without --tau"
        raise ValueError(f"{flags} not used by {kind}; drop {'them' if len(given) > 1 else 'it'}")
    for k, default in used.items():
        if getattr(args, k) is None:
            setattr(args, k, default)


def _phase_map(args, problem):
    """Every check (grids, thresholds, confirmation settings), then the map."""
    from .._common import positive, positive_int
    from .._phase import PhaseThresholds, phase_map_size, phase_map_time

    _grid_ends(args)
    th = PhaseThresholds(args.gen_factor, args.mem_fraction, args.mem_threshold)
    psi_n = log_grid("psi-n", args.psi_n_min, args.psi_n_max, args.points)
    if args.confirm_d is not None:
        positive_int("confirm-points", args.confirm_points)
        if positive("confirm-factor", args.confirm_factor) <= 1:
            raise ValueError(f"confirm-factor must be > 1, got {args.confirm_factor!r}")
    if args.tau is not None:
        positive("tau", args.tau)
        psi_p = log_grid("psi-p", args.psi_p_min, args.psi_p_max, args.points)
        check_writable(args)
        return phase_map_size(problem, psi_n, psi_p, args.tau, th, progress=not args.quiet)
    tau = log_grid("tau", args.tau_min, args.tau_max, args.points)
    check_writable(args)
    return phase_map_time(problem, psi_n, tau, th, progress=not args.quiet)


def run(args) -> int:
    import jax

    problem = problem_from_args(args)
    pmap = _phase_map(args, problem)
    out = {**pmap.as_dict(), "devices": [str(d) for d in jax.devices()]}
    if args.confirm_d is not None:
        from .._phase import confirm_points

        if not args.quiet:
            print(f"[rfdiff] confirmation: finite-size runs at d={args.confirm_d}",
                  file=sys.stderr, flush=True)
        rows = confirm_points(pmap, confirmation_points(pmap, args.confirm_points,
                                                        args.confirm_factor),
                              d=args.confirm_d, seed=args.seed)
        out["confirmation_factor"] = args.confirm_factor
        out["confirmation"] = rows
        out["confirmation_agreement"] = float(np.mean([r["agree"] for r in rows]))

    def figure():
        from ..plot import (label_legend_handles, new_figure, plot_phase_size,
                            plot_phase_time)

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
        return fig

    return emit(args, out, problem.params(), figure)
