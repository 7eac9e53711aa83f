"""``rfdiff spectrum``: asymptotic eigenvalue density of U and its parts."""

from __future__ import annotations

import numpy as np

from .main import common_parser, problem_from_args


def register(subparsers):
    p = subparsers.add_parser(
        "spectrum", parents=[common_parser(with_size=True)],
        help="asymptotic spectrum of U: density on a λ grid, atoms and bulks with roles, "
             "edges, masses and eigenvalue counts at --d")
    g = p.add_argument_group("grid")
    g.add_argument("--lambda-min", type=float, default=None,
                   help="grid start (default 0, or s_t² below 0)")
    g.add_argument("--lambda-max", type=float, default=None,
                   help="grid end (default 1.05 × the top edge)")
    g.add_argument("--points", type=int, default=1000, help="grid points (default 1000)")
    g.add_argument("--log-grid", action="store_true",
                   help="geometric grid (needs --lambda-min > 0)")
    c = p.add_argument_group("comparison")
    c.add_argument("--compare-d", type=int, default=None, metavar="D",
                   help="overlay/compare the eigenvalues of a finite-size U of dimension D "
                        "(exact method); counts are then reported at D")
    c.add_argument("--compare-method", default="exact",
                   choices=("exact", "gaussian_equivalent", "monte_carlo"),
                   help="construction of the finite-size U (default exact)")
    p.set_defaults(func=run)


def _check_grid_args(args):
    """Errors that do not need the spectrum, reported before any computation."""
    if args.points < 2 or args.points > 1_000_000:
        raise ValueError(f"--points must be between 2 and 1000000, got {args.points!r}")
    for name in ("lambda_min", "lambda_max"):
        value = getattr(args, name)
        if value is not None and not np.isfinite(value):
            raise ValueError(f"--{name.replace('_', '-')} must be finite, got {value!r}")
    if (args.lambda_min is not None and args.lambda_max is not None
            and args.lambda_max <= args.lambda_min):
        raise ValueError(f"--lambda-max must exceed --lambda-min, got {args.lambda_min!r} "
                         f"and {args.lambda_max!r}")
    if args.log_grid and args.lambda_min is not None and args.lambda_min <= 0:
        raise ValueError(f"--log-grid needs --lambda-min > 0, got {args.lambda_min!r}")


def _grid(args, structure, problem):
    tops = [part.hi for part in structure.parts if part.role != "outlier"]
    top = max(tops) if tops else float(problem.coefficients.s2) + 1.0
    lo = args.lambda_min if args.lambda_min is not None else min(
        0.0, float(problem.coefficients.s2))
    hi = args.lambda_max if args.lambda_max is not None else 1.05 * top
    if hi <= lo:
        raise ValueError(f"--lambda-max must exceed --lambda-min, got {lo!r} and {hi!r}")
    if args.log_grid:
        if lo <= 0:
            raise ValueError(f"--log-grid needs --lambda-min > 0, got {lo!r}")
        return np.geomspace(lo, hi, args.points)
    return np.linspace(lo, hi, args.points)


def run(args) -> dict:
    from .._theory.resolvent import solve_on_grid
    from .._spectrum.structure import spectral_structure, wasserstein1

    problem = problem_from_args(args)
    _check_grid_args(args)
    if args.d < 1:
        raise ValueError(f"--d must be a positive integer, got {args.d!r}")
    if args.compare_d is not None and args.compare_d < 1:
        raise ValueError(f"--compare-d must be a positive integer, got {args.compare_d!r}")
    d = args.compare_d if args.compare_d is not None else args.d
    structure = spectral_structure(problem, d=d)
    lam = _grid(args, structure, problem)
    res = solve_on_grid(problem, lam)
    out = {
        "lambda": lam,
        "density": res.density,
        "converged": res.converged,
        "all_converged": bool(np.all(res.converged)),
        "parts": [
            {"kind": part.kind, "role": part.role, "lo": part.lo, "hi": part.hi,
             "mass": part.mass, "count": part.count, "predicted_mass": part.predicted_mass}
            for part in structure.parts],
        "structure_converged": structure.converged,
        "notes": list(structure.notes),
        "d": d,
        "parameters": problem.params(),
    }
    eigenvalues = None
    if args.compare_d is not None:
        from .._finite.instance import finite_size_instance

        inst = finite_size_instance(problem, args.compare_d, seed=args.seed,
                                    method=args.compare_method)
        eigenvalues = np.linalg.eigvalsh(np.asarray(inst.U))
        out["compare"] = {
            "d": args.compare_d, "p": int(inst.p), "n": int(inst.n),
            "method": args.compare_method, "seed": args.seed,
            "wasserstein1": wasserstein1(problem, eigenvalues, structure),
            "eigenvalues": eigenvalues,
        }
    if args.plot:
        from ..plot.spectrum import spectrum_figure

        fig = spectrum_figure(problem, structure, eigenvalues=eigenvalues)
        fig.savefig(args.plot, dpi=120)
        out["plot"] = args.plot
    return out
