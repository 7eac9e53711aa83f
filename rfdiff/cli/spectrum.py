"""``rfdiff spectrum``: asymptotic eigenvalue density of U and its parts."""

from __future__ import annotations

import numpy as np

from ._common import add_command, check_writable, dimension, emit, problem_from_args

MAX_POINTS = 1_000_000


def register(subparsers):
    p = add_command(subparsers, "spectrum", size=True,
                    help="asymptotic spectrum of U: density on a λ grid, atoms and bulks with "
                         "roles, edges, masses and eigenvalue counts at --d")
    g = p.add_argument_group("grid")
    g.add_argument("--lambda-min", type=float, default=None,
                   help="grid start (default 0, or s_t² below 0)")
    g.add_argument("--lambda-max", type=float, default=None,
                   help="grid end (default 1.05 × the top edge)")
    g.add_argument("--points", type=int, default=1000, help="grid points (default 1000)")
    g.add_argument("--log-grid", action="store_true",
                   help="geometric grid (needs --lambda-min > 0)")
    c = p.add_argument_group("comparison")
    c.add_argument("--compare-d", type=dimension("compare-d"), default=None, metavar="D",
                   help="overlay/compare the eigenvalues of a finite-size U of dimension D "
                        "(exact method); counts are then reported at D")
    c.add_argument("--compare-method", default="exact",
                   choices=("exact", "gaussian_equivalent", "monte_carlo"),
                   help="construction of the finite-size U (default exact)")
    p.set_defaults(func=run)


def _check_range(lo, hi, log: bool) -> None:
    """Checks of the λ range; ends still None (defaults from the spectrum) are skipped."""
    for name, value in (("lambda-min", lo), ("lambda-max", hi)):
        if value is not None and not np.isfinite(value):
            raise ValueError(f"--{name} must be finite, got {value!r}")
    if lo is not None and hi is not None and hi <= lo:
        raise ValueError(f"--lambda-max must exceed --lambda-min, got {lo!r} and {hi!r}")
    if log and lo is not None and lo <= 0:
        raise ValueError(f"--log-grid needs --lambda-min > 0, got {lo!r}")


def _grid(args, structure, problem) -> np.ndarray:
    """The λ grid; the defaulted ends come from the spectrum, so they are checked again."""
    tops = [part.hi for part in structure.parts if part.role != "outlier"]
    top = max(tops) if tops else float(problem.coefficients.s2) + 1.0
    lo = args.lambda_min if args.lambda_min is not None else min(
        0.0, float(problem.coefficients.s2))
    hi = args.lambda_max if args.lambda_max is not None else 1.05 * top
    _check_range(lo, hi, args.log_grid)
    return (np.geomspace if args.log_grid else np.linspace)(lo, hi, args.points)


def run(args) -> int:
    from .._spectrum import spectral_structure, wasserstein1
    from .._theory import solve_on_grid

    problem = problem_from_args(args)
    # errors that do not need the spectrum are reported before any computation
    if not 2 <= args.points <= MAX_POINTS:
        raise ValueError(f"--points must be between 2 and {MAX_POINTS}, got {args.points!r}")
    _check_range(args.lambda_min, args.lambda_max, args.log_grid)
    check_writable(args)
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
    }
    eigenvalues = None
    if args.compare_d is not None:
        from .._finite import finite_size_instance

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
        out["plot"] = args.plot  # the spectrum's output names its figure file

    def figure():
        from ..plot import spectrum_figure

        return spectrum_figure(problem, structure, eigenvalues=eigenvalues)

    return emit(args, out, problem.params(), figure)
