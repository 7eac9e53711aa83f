"""Validation by extrapolation: the finite-size twin over a ladder of d, fitted to d → ∞.

One task per (d, seed): an instance (:func:`rfdiff.finite_size_instance`), its exact flow
and learning curves on the τ grid, and the eigenvalues of U. The tasks are independent and
carry their own seeds, so they run serially or on any ``concurrent.futures.Executor`` with
the same results. Per d the seed means and their standard errors are fitted by
:func:`rfdiff._validation.fit.extrapolate` (a + b/d, + c/d² when supported) and the
extrapolated value is set beside the theory:

- learning curves (train loss, test loss, score error) at every τ of the grid, τ = ∞ last;
- the spectrum: the Wasserstein-1 distance of the eigenvalues of U to the asymptotic
  spectrum (:func:`rfdiff.core.wasserstein1`), which must extrapolate to 0;
- the bulk edges: the extreme eigenvalues of each bulk (eigenvalues assigned to the parts
  in increasing order by their predicted counts), fitted as a + b·d^(-2/3): edge
  eigenvalues move on the Tracy–Widom scale d^(-2/3), not 1/d;
- the timescales: τ_gen and τ_mem of the learning curves (:func:`rfdiff.curve_timescales`
  on a fine grid, :data:`TIMESCALE_TAU`, fitted as a + b/d like the curves) and the
  spectral ones, ψ_p/(Δ_t λ) at the lower edges of the generalisation and memorisation
  bulks (fitted in d^(-2/3) like the edges).
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._common import check_executor, check_picklable, float64, map_tasks, positive_int
from .._finite import finite_size_instance, gradient_flow, learning_curves
from .._model import Problem
from .._spectrum import spectral_structure, wasserstein1
from .._theory import asymptotic_curves
from .._timescales import curve_timescales, spectral_timescales
from .fit import extrapolate
from .record import CURVE_NAMES, Validation

__all__ = ["validate", "DEFAULT_TAU", "METHODS", "TIMESCALE_TAU"]

#: the default grid: 40 log-spaced τ in [0.1, 1e5], then τ = ∞
DEFAULT_TAU = np.append(np.logspace(-1.0, 5.0, 40), np.inf)
METHODS = ("exact", "monte_carlo", "gaussian_equivalent")
#: edges converge on the scale d^(-2/3): fitted as a + b / D with D = d^(2/3)
EDGE_EXPONENT = 2.0 / 3.0
#: the grid the curve timescales are read on: 20 points per decade over [0.1, 1e8], so
#: that interpolated crossings and the refined argmin do not depend on the user's grid
TIMESCALE_TAU = np.logspace(-1.0, 8.0, 181)
#: (name, definition, curve_timescales field or spectral role)
TIMESCALES = (("tau_gen_curve", "argmin of E_score (curve_timescales.tau_gen)", "tau_gen"),
              ("tau_mem_curve", ("L_gen reaches half its tau = inf value after the minimum "
                                 "(curve_timescales.tau_mem)"), "tau_mem"),
              ("tau_gen_spectral", "psi_p / (Delta_t lambda_lo(generalisation bulk))",
               "generalisation"),
              ("tau_mem_spectral", "psi_p / (Delta_t lambda_lo(memorisation bulk))",
               "memorisation"))


@float64
def _rung(problem, d, seed, tau, method):
    """One finite-size run: the curves on ``tau`` and the eigenvalues of U (one task)."""
    flow = gradient_flow(finite_size_instance(problem, d, seed=seed, method=method))
    c = learning_curves(flow, tau)
    out = {k: np.asarray(getattr(c, k), dtype=float) for k in CURVE_NAMES}
    out["eigenvalues"] = np.sort(np.asarray(flow.eigvals, dtype=float))
    fine = curve_timescales(learning_curves(flow, np.append(TIMESCALE_TAU, np.inf)))
    out["curve_timescales"] = {f: float(getattr(fine, f)) for _, _, f in TIMESCALES[:2]}
    return out


def _check_sizes(d):
    try:
        sizes = [positive_int("d", v) for v in np.atleast_1d(np.asarray(d, dtype=object))]
    except (TypeError, ValueError) as err:
        raise ValueError(f"d must be positive integers, got {d!r} ({err})") from None
    if len(set(sizes)) < 2 or len(set(sizes)) != len(sizes):
        raise ValueError(f"d must hold at least two distinct sizes, got {d!r}")
    return tuple(sorted(sizes))


def _check_tau(tau):
    if tau is None:
        return DEFAULT_TAU.copy()
    t = np.atleast_1d(np.asarray(tau, dtype=float))
    if t.ndim != 1 or t.size == 0 or np.any(np.isnan(t)) or np.any(t < 0) \
            or np.any(np.diff(t) <= 0):
        raise ValueError(f"tau must be a non-empty increasing 1-D array of times >= 0, "
                         f"got {tau!r}")
    # the end of training is always the last point: the limit the fit is judged by
    return t if np.isinf(t[-1]) else np.append(t, np.inf)


def _part_edges(structure, eigenvalues, outlier):
    """(role, lo, hi) of the finite-size bulks: the parts take the sorted eigenvalues in
    increasing order, each as many as its mass predicts at this size."""
    ev = eigenvalues[:-1] if outlier else eigenvalues
    parts = [q for q in structure.parts if q.role != "outlier"]
    counts = [int(round(q.mass * ev.size)) for q in parts]
    if not parts or sum(counts) != ev.size:
        return None  # the assignment is ambiguous at this size: no edges
    out, start = [], 0
    for q, k in zip(parts, counts):
        if q.kind == "bulk" and k >= 2:
            out.append((q.role, float(ev[start]), float(ev[start + k - 1])))
        start += k
    return out


def _sem(x, axis):
    """Standard error of the mean over ``axis`` (None with a single sample)."""
    n = x.shape[axis]
    return None if n < 2 else np.std(x, axis=axis, ddof=1) / math.sqrt(n)


def _edges(problem, structure, eigs, sizes, seeds):
    outlier = abs(float(problem.coefficients.mu0)) > 1e-8
    per = [[_part_edges(structure, e, outlier) for e in row] for row in eigs]
    flat = [x for row in per for x in row]
    if any(x is None for x in flat) or len({tuple(r for r, _, _ in x) for x in flat}) != 1:
        return []
    theory = {q.role: q for q in structure.parts if q.kind == "bulk"}
    rows = []
    for j, (role, _, _) in enumerate(flat[0]):
        for side, col in (("lo", 1), ("hi", 2)):
            vals = np.array([[x[j][col] for x in row] for row in per])  # (D, S)
            fit = extrapolate(np.asarray(sizes, float) ** EDGE_EXPONENT, vals.mean(1),
                              _sem(vals, 1), max_order=1)
            rows.append({"role": role, "side": side,
                         "theory": float(getattr(theory[role], side)),
                         "finite": vals.mean(1), "finite_seeds": vals,
                         "extrapolated": float(fit.value[0]),
                         "uncertainty": float(fit.uncertainty[0])})
    return rows


def _timescales(problem, structure, runs, edges, sizes):
    """Theory, finite seed means and extrapolation of τ_gen and τ_mem (curves and spectrum).

    A timescale that is not finite in some run (the crossing beyond the grid, or the bulk
    absent) is reported without extrapolation (``nan``)."""
    fine = curve_timescales(asymptotic_curves(problem, np.append(TIMESCALE_TAU, np.inf)))
    spec = spectral_timescales(problem, structure)
    scale = problem.psi_p / problem.delta
    lo = {e["role"]: e for e in edges if e["side"] == "lo"}
    rows = []
    for name, definition, key in TIMESCALES:
        if name.endswith("_curve"):
            theory = float(getattr(fine, key))
            vals = np.array([[r["curve_timescales"][key] for r in row] for row in runs])
            x = np.asarray(sizes, float)
        else:
            theory = float((spec.tau_gen if key == "generalisation" else spec.tau_mem)
                           ["spectral"])
            if key not in lo:
                continue  # the bulk is absent, or its eigenvalues could not be assigned
            vals = scale / np.asarray(lo[key]["finite_seeds"], float)
            x = np.asarray(sizes, float) ** EDGE_EXPONENT
        row = {"name": name, "definition": definition, "theory": theory,
               "finite": vals.mean(1), "extrapolated": math.nan, "uncertainty": math.nan}
        if np.all(np.isfinite(vals)):
            fit = extrapolate(x, vals.mean(1), _sem(vals, 1), max_order=1)
            row["extrapolated"] = float(fit.value[0])
            row["uncertainty"] = float(fit.uncertainty[0])
        rows.append(row)
    return rows


def validate(problem: Problem, d=(50, 100, 200), seeds: int = 2, tau=None, executor=None,
             *, seed: int = 0, method: str = "exact", max_order: int = 2,
             progress=None) -> Validation:
    """Check the asymptotic theory against finite sizes extrapolated to d → ∞.

    Args:
        problem: the model (ψ_p, ψ_n, t, activation, ρ_Σ).
        d: the ladder of dimensions (at least two distinct sizes; ≥ 4 allow the c/d² term).
        seeds: draws per size: seeds ``seed, seed + 1, ...``.
        tau: training times (default :data:`DEFAULT_TAU`, 40 points in [0.1, 1e5]); τ = ∞
            is appended when not already last.
        executor: None (serial, in this process) or a ``concurrent.futures.Executor``
            (process pool, ``dask.distributed.Client.get_executor()``, ...); one task per
            (d, seed), the results do not depend on it.
        seed: the first seed.
        method: how the finite-size matrices are built (``"exact"`` by default).
        max_order: 2 allows the c/d² term when the data support it, 1 fits a + b/d only.
        progress: optional callback ``progress(done, total, {"d": d, "seed": s})`` after
            each finite-size run (quiet by default).

    Returns:
        :class:`rfdiff.tools.Validation` (``as_dict()`` is the JSON of ``rfdiff validate``).

    Raises:
        ValueError: for a bad problem, sizes, seeds, grid, method, order or executor, or
            a problem that does not pickle with an executor, or τ = ∞ where the theory
            has none (s_t² = 0), all before any finite-size run;
            MemoryPlanError (a ValueError) when a size does not fit in memory.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    sizes = _check_sizes(d)
    n_seeds = positive_int("seeds", seeds)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if max_order not in (1, 2):
        raise ValueError(f"max_order must be 1 or 2, got {max_order!r}")
    if check_executor(executor) is not None:
        check_picklable(problem, "problem")
    grid = _check_tau(tau)
    start = time.perf_counter()
    theory = asymptotic_curves(problem, grid)  # cheap, and refuses τ = ∞ without s_t² > 0
    seed_list = tuple(int(seed) + k for k in range(n_seeds))
    tasks = [(problem, dk, s, grid, method) for dk in sizes for s in seed_list]
    order = tasks[::-1] if executor is not None else tasks  # long runs first on a pool

    def report(done, total, task):
        if progress is not None:
            progress(done, total, {"d": task[1], "seed": task[2]})

    results = dict(zip([(t[1], t[2]) for t in order],
                       map_tasks(_rung, order, executor, report)))
    runs = [[results[(dk, s)] for s in seed_list] for dk in sizes]
    finite = {k: np.array([[r[k] for r in row] for row in runs]) for k in CURVE_NAMES}
    fits = {k: extrapolate(sizes, v.mean(1), _sem(v, 1), max_order)
            for k, v in finite.items()}
    structure = spectral_structure(problem)
    eigs = [[r["eigenvalues"] for r in row] for row in runs]
    w1 = np.array([[wasserstein1(problem, e, structure) for e in row] for row in eigs])
    w1_fit = extrapolate(sizes, w1.mean(1), _sem(w1, 1), max_order)
    edges = _edges(problem, structure, eigs, sizes, seed_list)
    scales = _timescales(problem, structure, runs, edges, sizes)
    for e in edges:
        del e["finite_seeds"]
    return Validation(problem, grid, sizes, seed_list, method,
                      {k: np.asarray(getattr(theory, k), dtype=float) for k in CURVE_NAMES},
                      finite, fits, w1, w1_fit, edges, time.perf_counter() - start, scales)
