"""``rfdiff report``: the main job (figures, tables and an index page in a folder)."""

from __future__ import annotations

from .main import common_parser, problem_from_args


def register(subparsers):
    p = subparsers.add_parser("report", parents=[common_parser(with_size=True)],
                              help="run the default study and write a report folder")
    p.add_argument("--out", default="rfdiff-report", help="output folder (default rfdiff-report)")
    p.add_argument("--seeds", type=int, default=2, help="finite-size seeds (default 2)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=run)


def run(args) -> dict:
    from .._report.report import make_report
    from .._common.validation import positive_int

    seeds = positive_int("seeds", args.seeds)
    meta = make_report(args.out, problem_from_args(args), positive_int("d", args.d),
                       seeds=tuple(args.seed + i for i in range(seeds)),
                       verbose=not args.quiet)
    return {"out": args.out, **meta}
