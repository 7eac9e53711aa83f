"""``rfdiff report``: the main job (figures, tables and an index page in a folder)."""

from __future__ import annotations

from ._common import add_command, add_workers_flag, emit, problem_from_args, process_pool


def register(subparsers):
    # the report writes its figures into --out, so it takes no --plot
    p = add_command(subparsers, "report", size=True, plot=False,
                    help="run the default study and write a report folder")
    p.add_argument("--out", default="rfdiff-report", help="output folder (default rfdiff-report)")
    p.add_argument("--seeds", type=int, default=2,
                   help="finite-size seeds, --seed, --seed + 1, ... (default 2)")
    add_workers_flag(p)
    # --quiet (no progress display) is one of the shared output flags
    p.set_defaults(func=run)


def run(args) -> int:
    from .._common import positive_int
    from .._report import make_report

    seeds = positive_int("seeds", args.seeds)
    problem = problem_from_args(args)
    pool = process_pool(args.workers)
    try:
        meta = make_report(args.out, problem, args.d,
                           seeds=tuple(args.seed + i for i in range(seeds)),
                           verbose=not args.quiet, executor=pool)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    # make_report's summary already holds its parameters block (with the seeds)
    return emit(args, {"out": args.out, **meta})
