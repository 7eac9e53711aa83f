"""``rfdiff spectrum``: asymptotic eigenvalue density of U and its parts.

With ``--compare-d D`` the eigenvalues of a finite-size U are compared with the theory.
``--data FILE.npy`` builds that U on given training points (n × d, one point per row) and
``--features FILE.npy`` on given weights W (p × d), read and checked as by ``rfdiff simulate
--data``: ``--compare-d``, ``--psi-n`` and ``--psi-p`` default to the files' d, n/d and p/d,
and explicit values must agree. The theory's data spectrum is ``--sigma``, as in
``simulate`` (the data only replace the training points); the output reports the data's
κ = Tr Σ̂/d next to the spectrum's.

With ``--m M`` (finitely many noise samples per training point) only the density is derived:
the output then has no parts (``"parts": []``, ``"structure_converged": null``, a note
saying so) and the mass of the atom at 0 (``"zero_atom_mass"``); ``--compare-d`` reports W₁
against the m-sample limit and defaults to the ``monte_carlo`` construction with M draws.
"""

from __future__ import annotations

import math

import numpy as np

from ._common import (add_command, add_samples_flag, check_writable, dimension, emit,
                      load_array, problem_from_args, sizes_from_arrays)

MAX_POINTS = 1_000_000
_FINITE_M_NOTE = ("noise_samples = {}: the parts (atoms, bulks, roles) are derived for "
                  "noise_samples = inf only; the density excludes the atom at 0")


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
    add_samples_flag(p, "; finite M gives the density only, without the parts")
    c = p.add_argument_group("comparison")
    c.add_argument("--compare-d", type=dimension("compare-d"), default=None, metavar="D",
                   help="overlay/compare the eigenvalues of a finite-size U of dimension D "
                        "(exact method); counts are then reported at D")
    c.add_argument("--compare-method", default=None,
                   choices=("exact", "gaussian_equivalent", "monte_carlo"),
                   help="construction of the finite-size U (default exact; monte_carlo "
                        "with M draws per point for finite --m)")
    c.add_argument("--data", metavar="FILE",
                   help="training points of the finite-size U, an (n, d) .npy array: "
                        "--compare-d and psi_n default to the file's d and n/d")
    c.add_argument("--features", metavar="FILE",
                   help="feature weights W of the finite-size U, a (p, d) .npy array with "
                        "N(0, 1)-scaled entries: psi_p defaults to the file's p/d")
    # None marks "not given", so that the files can supply the sizes (sizes_from_arrays)
    p.set_defaults(func=run, psi_n=None, psi_p=None)


def _check_range(lo, hi, log: bool) -> None:
    """Checks of the λ range; ends still None (defaults from the spectrum) are skipped."""
    for name, value in (("lambda-min", lo), ("lambda-max", hi)):
        if value is not None and not np.isfinite(value):
            raise ValueError(f"--{name} must be finite, got {value!r}")
    if lo is not None and hi is not None and hi <= lo:
        raise ValueError(f"--lambda-max must exceed --lambda-min, got {lo!r} and {hi!r}")
    if log and lo is not None and lo <= 0:
        raise ValueError(f"--log-grid needs --lambda-min > 0, got {lo!r}")


def _grid(args, structure, problem, top=None) -> np.ndarray:
    """The λ grid; the defaulted ends come from the spectrum, so they are checked again."""
    if top is None:
        tops = [part.hi for part in structure.parts if part.role != "outlier"]
        top = max(tops) if tops else float(problem.coefficients.s2) + 1.0
    lo = args.lambda_min if args.lambda_min is not None else min(
        0.0, float(problem.coefficients.s2))
    hi = args.lambda_max if args.lambda_max is not None else 1.05 * top
    _check_range(lo, hi, args.log_grid)
    return (np.geomspace if args.log_grid else np.linspace)(lo, hi, args.points)


def run(args) -> int:
    from .._spectrum import spectral_structure, wasserstein1
    from .._spectrum.distributions import support_top
    from .._theory import as_params, solve_on_grid

    X = load_array("data", args.data) if args.data else None
    W = load_array("features", args.features) if args.features else None
    sizes_from_arrays(args, X, W, dest="compare_d", default_d=None)
    problem = problem_from_args(args)
    finite_m = not math.isinf(problem.noise_samples)
    method = args.compare_method or ("monte_carlo" if finite_m else "exact")
    # errors that do not need the spectrum are reported before any computation
    if not 2 <= args.points <= MAX_POINTS:
        raise ValueError(f"--points must be between 2 and {MAX_POINTS}, got {args.points!r}")
    _check_range(args.lambda_min, args.lambda_max, args.log_grid)
    if finite_m and args.plot:
        raise ValueError(f"--plot needs the spectral parts, derived for --m inf only, got "
                         f"--m {problem.noise_samples!r}")
    if finite_m and method == "exact":
        raise ValueError("--compare-method exact builds the noise-averaged U (--m inf), got "
                         f"--m {problem.noise_samples!r}: use monte_carlo or "
                         "gaussian_equivalent")
    check_writable(args)
    if X is not None or W is not None:
        from .._finite import given_arrays

        given_arrays(problem, args.compare_d, X, W, None)  # the array checks
    d = args.compare_d if args.compare_d is not None else args.d
    if finite_m:
        structure = None
        lam = _grid(args, None, problem, top=support_top(as_params(problem)))
    else:
        structure = spectral_structure(problem, d=d)
        lam = _grid(args, structure, problem)
    res = solve_on_grid(problem, lam)
    out = {
        "lambda": lam,
        "density": res.density,
        "converged": res.converged,
        "all_converged": bool(np.all(res.converged)),
        "parts": [] if finite_m else [
            {"kind": part.kind, "role": part.role, "lo": part.lo, "hi": part.hi,
             "mass": part.mass, "count": part.count, "predicted_mass": part.predicted_mass}
            for part in structure.parts],
        "structure_converged": None if finite_m else structure.converged,
        "notes": [_FINITE_M_NOTE.format(problem.noise_samples)] if finite_m
        else list(structure.notes),
        "d": d,
    }
    if finite_m:
        out["zero_atom_mass"] = max(0.0, 1.0 - problem.noise_samples * problem.psi_n
                                    / problem.psi_p)
    eigenvalues = None
    if args.compare_d is not None:
        from .._finite import finite_size_instance

        inst = finite_size_instance(problem, args.compare_d, seed=args.seed, method=method,
                                    X=X, W=W)
        eigenvalues = np.linalg.eigvalsh(np.asarray(inst.U))
        out["compare"] = {
            "d": args.compare_d, "p": int(inst.p), "n": int(inst.n),
            "method": method, "seed": args.seed,
            "wasserstein1": wasserstein1(problem, eigenvalues, structure),
            "eigenvalues": eigenvalues,
            **{k: v for k, v in (("data", args.data), ("features", args.features)) if v},
        }
        if X is not None:
            # the coefficients use the κ of --sigma; the given points have their own
            out["compare"].update(data_kappa=inst.info["data_kappa"],
                                  spectrum_kappa=problem.spectrum.kappa)
    if args.plot:
        out["plot"] = args.plot  # the spectrum's output names its figure file

    def figure():
        from ..plot import spectrum_figure

        return spectrum_figure(problem, structure, eigenvalues=eigenvalues)

    return emit(args, out, problem.params(), figure)
