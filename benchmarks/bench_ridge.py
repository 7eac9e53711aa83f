"""Weight decay: asymptotic curves against exact finite-size flows, and the λ → 0 limit.

For ψ_p = 4, ψ_n = 2, t = 0.1, tanh (isotropic data) and λ ∈ {1e-3, 1e-2, 1e-1}:

1. τ = ∞: L_train, L_test and E_score of the exact finite-size flow (exact noise average,
   seeds 0 and 1) at d = 100, 200, 400 against :func:`rfdiff.asymptotic_curves`, with the
   fitted slope of log|mean over seeds − theory| against log d (O(1/d): slope ≈ −1);
2. λ → 0: the curves at λ = 0 and λ = 1e-12 against the ridgeless curves (no ``ridge``
   argument), theory and finite size;
3. finite τ: the largest deviation over a τ grid, per d, at λ = 1e-2.

Run: ``python benchmarks/bench_ridge.py [--out benchmarks/results/ridge.txt]``. One
decomposition per (d, seed) serves every λ (``dataclasses.replace(flow, ridge=λ)``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import numpy as np

import rfdiff
from rfdiff import finite_size_instance, gradient_flow, learning_curves

RIDGES = (1e-3, 1e-2, 1e-1)
SIZES = (100, 200, 400)
SEEDS = (0, 1)
TAU = np.array([1.0, 10.0, 100.0, 1e3, 1e4])
FIELDS = ("train_loss", "test_loss", "score_error")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args(argv)
    problem = rfdiff.Problem(4.0, 2.0, 0.1, "tanh")
    lines = [f"problem: psi_p=4, psi_n=2, t=0.1, tanh, isotropic; seeds {SEEDS}"]

    def say(text=""):
        lines.append(text)
        print(text, flush=True)

    grid = np.append(TAU, np.inf)
    theory = {lam: rfdiff.asymptotic_curves(problem, grid, ridge=lam) for lam in RIDGES}
    assert all(bool(np.all(c.converged)) for c in theory.values())
    # finite size: one decomposition per (d, seed), every λ from it
    sims = {}
    for d in SIZES:
        for seed in SEEDS:
            t0 = time.perf_counter()
            flow = gradient_flow(finite_size_instance(problem, d, seed=seed))
            for lam in (0.0, 1e-12) + RIDGES:
                sims[d, seed, lam] = learning_curves(dataclasses.replace(flow, ridge=lam), grid)
            say(f"d={d} seed={seed}: {time.perf_counter() - t0:.1f} s")

    say("\n1. tau = inf: finite size (mean of seeds) vs theory; slope of log|diff| vs log d")
    for lam in RIDGES:
        for field in FIELDS:
            th = float(getattr(theory[lam], field)[-1])
            diffs = [np.mean([float(getattr(sims[d, s, lam], field)[-1]) for s in SEEDS]) - th
                     for d in SIZES]
            slope = np.polyfit(np.log(SIZES), np.log(np.abs(diffs)), 1)[0]
            say(f"lambda={lam:g} {field:11s} theory={th:.8f} diff(d=100,200,400)="
                + ", ".join(f"{x:+.2e}" for x in diffs) + f"  slope={slope:+.2f}")

    say("\n2. lambda -> 0: max |curves(lambda) - ridgeless| over tau in [0, 1e4] and inf")
    full = np.concatenate([[0.0], grid])
    base = rfdiff.asymptotic_curves(problem, full)
    for lam in (0.0, 1e-12):
        c = rfdiff.asymptotic_curves(problem, full, ridge=lam)
        dev = max(float(np.max(np.abs(getattr(c, f) - getattr(base, f)))) for f in FIELDS)
        say(f"theory      lambda={lam:g}: {dev:.2e}")
    flow = gradient_flow(finite_size_instance(problem, SIZES[0], seed=0))
    ref = learning_curves(flow, full)
    for lam in (0.0, 1e-12):
        c = learning_curves(gradient_flow(flow.instance, ridge=lam), full)
        dev = max(float(np.max(np.abs(np.asarray(getattr(c, f)) - np.asarray(getattr(ref, f)))))
                  for f in FIELDS)
        say(f"finite d={SIZES[0]} lambda={lam:g}: {dev:.2e}")

    say(f"\n3. finite tau {TAU.tolist()}, lambda=1e-2: max over tau of |mean of seeds - theory|")
    lam = 1e-2
    for field in FIELDS:
        th = np.asarray(getattr(theory[lam], field)[:-1])
        devs = [float(np.max(np.abs(np.mean([np.asarray(getattr(sims[d, s, lam], field))[:-1]
                                             for s in SEEDS], axis=0) - th))) for d in SIZES]
        slope = np.polyfit(np.log(SIZES), np.log(devs), 1)[0]
        say(f"{field:11s} " + ", ".join(f"d={d}: {x:.2e}" for d, x in zip(SIZES, devs))
            + f"  slope={slope:+.2f}")
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
