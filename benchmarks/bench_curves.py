"""Wall time of a 200-point learning curve: asymptotic theory versus the exact finite-size route.

Setting: ψ_p = 16, ψ_n = 4, t = 0.1, tanh, isotropic data, τ = logspace(−1, 5, 200) plus
τ = ∞. Both routes run in this one process, one after the other:

  1. ``asymptotic_curves`` (first call, which includes compilation, then a warm call);
  2. ``finite_size_instance(d=200, method="exact")`` + ``gradient_flow`` + ``learning_curves``.

It also reports the largest relative deviation between the two curves. The result is
written to benchmarks/results/curves.txt (and printed). Timings depend on the load of the
machine; the load average at the start is recorded with them.

Run:  python benchmarks/bench_curves.py  [--d D]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

import rfdiff
from rfdiff._theory import asymptotic_curves

OUT = Path(__file__).resolve().parent / "results" / "curves.txt"


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=200, help="finite-size dimension (default 200)")
    args = parser.parse_args()
    problem = rfdiff.Problem(16, 4, 0.1, "tanh")
    tau = np.concatenate([np.logspace(-1, 5, 200), [np.inf]])
    load = os.getloadavg()[0]

    res, t_first = _timed(asymptotic_curves, problem, tau)
    res, t_warm = _timed(asymptotic_curves, problem, tau)
    inst, t_build = _timed(rfdiff.finite_size_instance, problem, args.d, seed=0, method="exact")
    flow, t_flow = _timed(rfdiff.gradient_flow, inst)
    fin, t_eval = _timed(rfdiff.learning_curves, flow, tau)
    t_finite = t_build + t_flow + t_eval

    th = res.curves
    rel_train = np.max(np.abs(fin.train_loss - th.train_loss) / th.train_loss)
    rel_test = np.max(np.abs(fin.test_loss - th.test_loss) / th.test_loss)
    lines = [
        "learning curve, 201 times (logspace(-1, 5, 200) and inf), psi_p=16 psi_n=4 t=0.1 tanh",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average at start {load:.2f}",
        f"asymptotic_curves, first call (with compilation): {t_first:8.2f} s",
        f"asymptotic_curves, warm call:                     {t_warm:8.3f} s  "
        f"(converged: {res.ok}, max residual {np.max(res.residual):.1e})",
        f"finite size d={args.d} (p={inst.p}, n={inst.n}), exact route:        {t_finite:8.2f} s",
        f"    finite_size_instance {t_build:.2f} s, gradient_flow {t_flow:.2f} s, "
        f"learning_curves {t_eval:.3f} s",
        f"speed-up (finite / asymptotic warm): {t_finite / t_warm:.0f}x; "
        f"(finite / asymptotic first call): {t_finite / t_first:.1f}x",
        f"max relative deviation finite vs asymptotic: train {rel_train:.4f}, test {rel_test:.4f}",
    ]
    text = "\n".join(lines) + "\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
