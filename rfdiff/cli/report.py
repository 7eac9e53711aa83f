"""``rfdiff report``: the main job (figures, tables and an index page in a folder)."""

from __future__ import annotations

from ._common import add_command, emit, problem_from_args


def register(subparsers):
    # the report writes its figures into --out, so it takes no --plot
    p = add_command(subparsers, "report", size=True, plot=False,
                    help="run the default study and write a report folder")
    p.add_argument("--out", default="rfdiff-report", help="output folder (default rfdiff-report)")
    p.add_argument("--seeds", type=int, default=2,
                   help="finite-size seeds, --seed, --seed + 1, ... (default 2)")
    # --quiet (no progress display) is one of the shared output flags
    p.set_defaults(func=run)


def run(args) -> int:
    from .._common import positive_int
    from .._report import make_report

    seeds = positive_int("seeds", args.seeds)
    meta = make_report(args.out, problem_from_args(args), args.d,
                       seeds=tuple(args.seed + i for i in range(seeds)),
                       verbose=not args.quiet)
    # make_report's summary already holds its parameters block (with the seeds)
    return emit(args, {"out": args.out, **meta})
