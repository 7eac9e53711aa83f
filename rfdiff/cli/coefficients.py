"""``rfdiff coefficients``: the Gaussian-equivalence constants."""

from __future__ import annotations

from ._common import add_command, emit, problem_from_args


def register(subparsers):
    p = add_command(subparsers, "coefficients", size=False, plot=False,
                    help="Gaussian-equivalence constants mu0, a, b, v2, s2 (keys also kappa, "
                         "delta)")
    p.set_defaults(func=run)


def run(args) -> int:
    problem = problem_from_args(args)
    c = problem.coefficients.as_dict()
    return emit(args, {k: c[k] for k in ("mu0", "a", "b", "v2", "s2", "kappa", "delta")},
                problem.params())
