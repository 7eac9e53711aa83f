"""``rfdiff coefficients``: the Gaussian-equivalence constants."""

from __future__ import annotations

from .main import common_parser, problem_from_args


def register(subparsers):
    p = subparsers.add_parser(
        "coefficients", parents=[common_parser(with_size=False)],
        help="Gaussian-equivalence constants mu0, a, b, v2, s2 (keys also kappa, delta)")
    p.set_defaults(func=run)


def run(args) -> dict:
    problem = problem_from_args(args)
    c = problem.coefficients.as_dict()
    out = {k: c[k] for k in ("mu0", "a", "b", "v2", "s2", "kappa", "delta")}
    out["parameters"] = problem.params()
    if args.plot:
        raise ValueError("--plot is not available for 'coefficients'")
    return out
