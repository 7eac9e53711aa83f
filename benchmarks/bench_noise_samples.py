"""Finitely many noise samples: the asymptotic spectrum of U_m against finite-size matrices.

For m ∈ {1, 2, 4} noise draws per training point, t = 0.1, tanh, isotropic data, at
(ψ_p, ψ_n) = (8, 2) and (16, 4), the Wasserstein-1 distance between the limiting spectrum
(:func:`rfdiff.wasserstein1` with ``Problem(..., noise_samples=m)``) and the eigenvalues of

1. the Gaussian-equivalent U_m = (1/(nm)) Σ_νj σ_νj σ_νjᵀ, σ_νj = g_ν + b_t W̃ξ_νj + s_t ζ_νj
   (``finite_size_instance(method="gaussian_equivalent")``) at d = 50, 100, 200;
2. the real U_m of the ``monte_carlo`` construction, σ_νj = σ(W̃(e^{−t}x_ν + √Δ_t ξ_νj)) with
   m fixed draws per point, at d = 50, 100 (its train matrix only: the exact population
   matrices, which the spectrum does not need, are skipped; same W, X and noise stream as
   ``finite_size_instance(method="monte_carlo")``),

averaged over seeds, with the fitted slope of log W₁ against log d, and for contrast W₁ of
the same matrices against the noise-averaged (m = ∞) limit and against the naive guess
"m = ∞ with nm points" (ψ_n → mψ_n). W₁ is reported relative to the mean eigenvalue
(1/p) Tr U (the same for every m). KS is the Kolmogorov distance sup |F − F_emp| of the
m-sample theory (eigenvalues within 1e-9 of 0 count as the atom at 0), dominated by the
lower parts of the spectrum, where W₁ is dominated by the top bulk.

Run: ``python benchmarks/bench_noise_samples.py [--out benchmarks/results/noise_samples.txt]
[--quick]`` (``--quick``: d = 50, 100 for both, one seed).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import jax
import numpy as np
import scipy.linalg

import rfdiff
from rfdiff._finite.instance import _monte_carlo_train, draw
from rfdiff._theory import mean_eigenvalue, spectral_params

SAMPLES = (1, 2, 4)
RATIOS = ((8.0, 2.0), (16.0, 4.0))
T = 0.1


def ge_eigenvalues(problem, d, seed):
    """Eigenvalues of the Gaussian-equivalent U_m."""
    inst = rfdiff.finite_size_instance(problem, d, seed=seed, method="gaussian_equivalent")
    return scipy.linalg.eigvalsh(np.asarray(inst.U))


def mc_eigenvalues(problem, d, seed):
    """Eigenvalues of the real U_m (the train matrix of the monte_carlo construction)."""
    with jax.enable_x64(True):
        W, X, _ = draw(problem, d, seed)
        key = jax.random.fold_in(jax.random.PRNGKey(seed), 0x5EED)
        U, _ = _monte_carlo_train(problem, problem.activation, W / math.sqrt(d), X, key,
                                  problem.noise_samples)
        U = np.asarray(U)
    return scipy.linalg.eigvalsh(U)


def kolmogorov(problem, ev, scale):
    """sup |F − F_emp| at the eigenvalues (both sides of each jump)."""
    ev = np.where(np.abs(ev) < 1e-9 * scale, 0.0, np.sort(ev))
    x = np.unique(ev)
    f_th = rfdiff.core.spectral_cdf(problem, x)
    f_th_left = np.where(x == 0.0, 0.0, f_th)  # F is continuous except at the atom at 0
    right = np.searchsorted(ev, x, side="right") / ev.size
    left = np.searchsorted(ev, x, side="left") / ev.size
    return float(max(np.max(np.abs(f_th - right)), np.max(np.abs(f_th_left - left))))


def slope(ds, values):
    return float(np.polyfit(np.log(ds), np.log(values), 1)[0])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the report to this file")
    parser.add_argument("--quick", action="store_true", help="small sizes, one seed")
    args = parser.parse_args(argv)
    seeds = (0,) if args.quick else (0, 1)
    ge_sizes = (50, 100) if args.quick else (50, 100, 200)
    mc_sizes = (50, 100)
    lines = [f"t={T}, tanh, isotropic; seeds {seeds}; W1 relative to (1/p) Tr U"]

    def say(text):
        print(text, flush=True)
        lines.append(text)

    for psi_p, psi_n in RATIOS:
        base = rfdiff.Problem(psi_p, psi_n, T, "tanh")
        scale = float(mean_eigenvalue(spectral_params(base)))
        for m in SAMPLES:
            problem = rfdiff.Problem(psi_p, psi_n, T, "tanh", noise_samples=m)
            naive = rfdiff.Problem(psi_p, m * psi_n, T, "tanh")
            for label, sizes, build in (("gaussian_equivalent", ge_sizes, ge_eigenvalues),
                                        ("monte_carlo", mc_sizes, mc_eigenvalues)):
                rows = {"W1": [], "KS": [], "W1 m=inf": [], "W1 naive": []}
                start = time.perf_counter()
                for d in sizes:
                    got = {k: [] for k in rows}
                    for seed in seeds:
                        ev = build(problem, d, seed)
                        got["W1"].append(rfdiff.core.wasserstein1(problem, ev) / scale)
                        got["KS"].append(kolmogorov(problem, ev, scale))
                        got["W1 m=inf"].append(rfdiff.core.wasserstein1(base, ev) / scale)
                        got["W1 naive"].append(rfdiff.core.wasserstein1(naive, ev) / scale)
                    for k, v in rows.items():
                        v.append(float(np.mean(got[k])))
                say(f"psi_p={psi_p:g} psi_n={psi_n:g} m={m} {label} d={sizes} "
                    f"[{time.perf_counter() - start:.0f} s]")
                for k, v in rows.items():
                    say(f"    {k:9s} " + ", ".join(f"{w:.2e}" for w in v)
                        + (f"  (slope {slope(sizes, v):+.2f})" if k in ("W1", "KS") else ""))
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
