"""Benchmark: asymptotic density and spectral structure of U on a 1 000-point λ grid.

Measures, in one run and on the same machine:

1. rfdiff: compile time (first calls), then the steady-state time of the density on the
   grid, of the structure finder (parts, edges, masses), and of both together;
2. the per-point cold-started continuation baseline (re-implemented here): at every λ,
   Levenberg–Marquardt (MINPACK, scipy.optimize.least_squares(method="lm")) on the six
   real unknowns (Re, Im of q, r, s) at 110 values of ε from 100 down to 1e-9, each solve
   started from the previous one, the first from q = s = −1/z, r = −κ/z;
3. accuracy: both methods end at the same Im z = 1e-9 and their densities are compared.

Usage:
    python benchmarks/bench_spectrum.py [--baseline-points N] [--out FILE]

Without --baseline-points the baseline runs on all 1 000 points (~30 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np
from scipy.optimize import least_squares

from rfdiff._model.problem import Problem
from rfdiff._spectrum import spectral_structure
from rfdiff._theory import resolvent_params, solve_on_grid, spectral_scale

EPS_FINAL = 1e-9


def baseline_point(lam, P, n_eps=110):
    """Cold-started continuation at one λ: LM solves from ε = 100 down to 1e-9."""
    psi_p, psi_n, a2, b2, v2, s2 = (float(getattr(P, k)) for k in
                                    ("psi_p", "psi_n", "a2", "b2", "v2", "s2"))
    atoms, weights = np.asarray(P.atoms), np.asarray(P.weights)
    kappa = float(np.sum(atoms * weights))

    def equations(u, z):
        q, r, s = u[0] + 1j * u[1], u[2] + 1j * u[3], u[4] + 1j * u[5]
        shat = b2 * psi_p + 1 / q
        D = 1 + psi_p / psi_n * (a2 * r + v2 * q)
        rhat = psi_p * a2 / D
        g = 1 / (shat + atoms * rhat)
        f = np.array([s - np.sum(weights * g), r - np.sum(weights * atoms * g),
                      psi_p * (s2 - z) + psi_p * v2 / D + (1 - psi_p) / q - s / q**2])
        return np.concatenate([f.real, f.imag])

    z = lam + 100j
    u = np.array([(-1 / z).real, (-1 / z).imag, (-kappa / z).real, (-kappa / z).imag,
                  (-1 / z).real, (-1 / z).imag])
    for eps in np.geomspace(100.0, EPS_FINAL, n_eps):
        z = lam + 1j * eps
        u = least_squares(equations, u, args=(z,), method="lm", xtol=1e-15, ftol=1e-15,
                          gtol=1e-15).x
    return u[0] + 1j * u[1]


def timed(fn, repeats=5):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-points", type=int, default=1000)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                      "spectrum.txt"))
    args = parser.parse_args(argv)

    problem = Problem(64, 8, 0.01, "tanh")
    P = resolvent_params(problem)
    lines = []

    def say(text=""):
        print(text)
        lines.append(text)

    say("rfdiff spectrum benchmark: psi_p=64, psi_n=8, t=0.01, tanh, isotropic data")
    say(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f} at start; python {sys.version.split()[0]}")

    # --- rfdiff: compile (first calls), then steady state ---------------------------
    t0 = time.perf_counter()
    structure = spectral_structure(problem)
    top = structure.parts[-1].hi
    lam = np.linspace(0.0, 1.05 * top, 1000)
    eps_rel = EPS_FINAL / spectral_scale(problem)
    ours = solve_on_grid(problem, lam, eps_rel=eps_rel)
    first = time.perf_counter() - t0
    t_density, t_density_min = timed(lambda: solve_on_grid(problem, lam, eps_rel=eps_rel))
    t_structure, t_structure_min = timed(lambda: spectral_structure(problem))
    t_both, t_both_min = timed(lambda: (solve_on_grid(problem, lam, eps_rel=eps_rel),
                                        spectral_structure(problem)))
    say(f"first calls (compilation + one run of density and structure): {first:.2f} s")
    say(f"density, 1000 points:        median {t_density * 1e3:8.1f} ms (min "
        f"{t_density_min * 1e3:.1f} ms), converged {int(ours.converged.sum())}/1000, "
        f"max residual {ours.residual.max():.1e}")
    say(f"structure (parts, edges, masses): median {t_structure * 1e3:8.1f} ms (min "
        f"{t_structure_min * 1e3:.1f} ms)")
    say(f"density + structure:         median {t_both * 1e3:8.1f} ms (min "
        f"{t_both_min * 1e3:.1f} ms)")
    for part in structure.parts:
        say(f"  {part.kind:5s} {part.role:16s} [{part.lo:.6g}, {part.hi:.6g}] "
            f"mass {part.mass:.9f}")

    # --- baseline ----------------------------------------------------------------------
    idx = np.unique(np.linspace(0, lam.size - 1, min(args.baseline_points, lam.size))
                    .round().astype(int))
    t0 = time.perf_counter()
    q_base = np.array([baseline_point(lam[i], P) for i in idx])
    t_base = time.perf_counter() - t0
    per_point = t_base / idx.size
    extrapolated = per_point * lam.size
    say(f"baseline (cold-started LM continuation, 110 solves/point): {idx.size} points in "
        f"{t_base:.2f} s = {per_point * 1e3:.1f} ms/point"
        + ("" if idx.size == lam.size else f" -> {extrapolated:.1f} s for 1000 points"))

    # --- accuracy ------------------------------------------------------------------------
    dens_base = q_base.imag / np.pi
    dens_ours = ours.density[idx]
    scale = np.max(np.abs(dens_ours))
    diff = np.abs(dens_base - dens_ours)
    wrong = np.sum(diff > 1e-6 * scale)
    say(f"accuracy at Im z = 1e-9: max |rho_baseline - rho_rfdiff| = {diff.max():.2e} "
        f"(max rho {scale:.3g}); points differing by more than 1e-6 of max rho: {wrong}"
        f"/{idx.size}; baseline points with Im q < 0: {int(np.sum(q_base.imag < 0))}")
    say(f"speed-up: density alone {extrapolated / t_density:.0f}x, "
        f"density + structure {extrapolated / t_both:.0f}x (steady state, medians)")

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.write("command: python benchmarks/bench_spectrum.py"
                 + (f" --baseline-points {args.baseline_points}"
                    if args.baseline_points != 1000 else "") + "\n")


if __name__ == "__main__":
    main()
