"""Stage times of the exact finite-size route against the machine's own limits.

Setting: ψ_p = 16, ψ_n = 4, t = 0.1, tanh, isotropic data, seed 0, τ = logspace(−1, 5, 200)
plus τ = ∞; d = 100, 200 (and 400 with ``--d400``). In one process the script measures

- the machine's limit: the rate of a p×n by n×p float64 matrix product (NumPy, two
  distinct matrices, median of 3) and the time of ``scipy.linalg.eigh`` of a p×p
  symmetric matrix (divide and conquer), for each p;
- the wall time of ``finite_size_instance`` (exact), ``gradient_flow`` and
  ``learning_curves``, each run twice (the first includes compilation; the table shows
  the second), and, where the library records them (``rfdiff._finite.timing``), the time
  of each stage.

Each time is put next to an estimate derived from the limit: flops / measured rate for the
matrix-product stages, the measured eigh time for the decomposition. The ratio time /
estimate is what stays comparable between runs on a shared, loaded machine. Only public
names are needed, so the script also runs against earlier versions of the library (they
report the totals only).

Run:  python benchmarks/bench_exact_route.py [--d400] [--section NAME]
The output is printed and stored as section NAME of benchmarks/results/exact_route.txt
(other sections are kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from pathlib import Path

import numpy as np
import scipy.linalg

import rfdiff

try:  # stage times, where this version of the library records them
    from rfdiff._finite.timing import recording
except ImportError:  # pragma: no cover - earlier versions
    recording = None

OUT = Path(__file__).resolve().parent / "results" / "exact_route.txt"
DEGREE, KMAX = 200, 40  # the library's defaults for smooth activations


def _median_time(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def machine_limit(p: int, n: int) -> tuple[float, float]:
    """(GFLOP/s of a p×n·n×p product, seconds of scipy eigh of a p×p matrix)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((p, n)), rng.standard_normal((n, p))
    rate = 2.0 * p * p * n / _median_time(lambda: a @ b) / 1e9
    s = rng.standard_normal((p, p))
    s = s + s.T
    t_eig = _median_time(lambda: scipy.linalg.eigh(s, driver="evd", check_finite=False),
                         repeats=1)
    return rate, t_eig


def _run(problem, d, tau):
    t0 = time.perf_counter()
    inst = rfdiff.finite_size_instance(problem, d, seed=0, method="exact")
    t1 = time.perf_counter()
    flow = rfdiff.gradient_flow(inst)
    t2 = time.perf_counter()
    curves = rfdiff.learning_curves(flow, tau)
    t3 = time.perf_counter()
    return inst, curves, {"finite_size_instance": t1 - t0, "gradient_flow": t2 - t1,
                          "learning_curves": t3 - t2}


def _estimates(p, d, n, K, Kp, T, rate, t_eig):
    """Seconds each stage would take at the measured limit (None: no product limit)."""
    gf = rate * 1e9
    est = {
        # projection of σ at the nodes on all orders (the σ evaluations come on top)
        "train coefficients": 2.0 * p * n * DEGREE * (KMAX + 1) / gf,
        "train correlations": p * p * d / gf,  # symmetric product W̃W̃ᵀ
        "train Mehler sum": (K + 1) * p * p * n / gf,  # K+1 symmetric p×n×p products
        "population correlations": p * p * d / gf,
        "decomposition": t_eig,
        "loss forms": (4.0 * p**3 + 8.0 * d * p * p) / gf,  # QᵀŨQ and the B products
        "curves": 2.0 * T * p * p / gf,
    }
    est["finite_size_instance"] = sum(est[k] for k in ("train coefficients",
                                                       "train correlations",
                                                       "train Mehler sum",
                                                       "population correlations"))
    est["gradient_flow"] = est["decomposition"] + est["loss forms"]
    est["learning_curves"] = est["curves"]
    est["end to end"] = est["finite_size_instance"] + est["gradient_flow"] + est["curves"]
    return est


def bench(d: int, tau) -> list[str]:
    problem = rfdiff.Problem(16, 4, 0.1, "tanh")
    p, n = problem.sizes(d)
    rate, t_eig = machine_limit(p, n)
    _run(problem, d, tau)  # compilation and caches
    if recording is not None:
        with recording() as stages:
            inst, curves, totals = _run(problem, d, tau)
    else:
        stages = {}
        inst, curves, totals = _run(problem, d, tau)
    totals["end to end"] = sum(totals.values())
    K, Kp = inst.info["mehler_terms"], inst.info["population_mehler_terms"]
    est = _estimates(p, d, n, K, Kp, len(tau), rate, t_eig)
    lines = [f"d={d} (p={p}, n={n}): Mehler terms K={K} (population {Kp}); limit: "
             f"{rate:.1f} GFLOP/s (p×n×p product), eigh {t_eig:.2f} s (p×p, evd); "
             f"load average now {os.getloadavg()[0]:.2f}",
             f"    {'stage':26s} {'time [s]':>9s} {'limit est. [s]':>15s} {'ratio':>7s}"]
    for name, value in list(stages.items()) + list(totals.items()):
        e = est.get(name)
        ratio = f"{value / e:7.2f}" if e else "      -"
        e_txt = f"{e:15.3f}" if e else f"{'-':>15s}"
        indent = "    " if name in totals else "      "
        lines.append(f"{indent}{name:{30 - len(indent)}s} {value:9.3f} {e_txt} {ratio}")
    lines.append("    curves at tau=1, 10, inf: train "
                 + ", ".join(f"{v:.6f}" for v in _at(curves.train_loss, tau))
                 + "; test " + ", ".join(f"{v:.6f}" for v in _at(curves.test_loss, tau)))
    return lines


def _at(values, tau):
    return [float(values[np.argmin(np.abs(tau - x))]) if np.isfinite(x) else float(values[-1])
            for x in (1.0, 10.0, np.inf)]


def _store(section: str, text: str) -> None:
    old = OUT.read_text() if OUT.exists() else ""
    parts = re.split(r"(?m)^(?=== )", old)
    kept = [s for s in parts if s.strip() and not s.startswith(f"== {section}\n")]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(s if s.endswith("\n") else s + "\n" for s in kept) + text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d400", action="store_true", help="also run d = 400 (p = 6400)")
    parser.add_argument("--section", default="run", help="name of the section in the output")
    args = parser.parse_args()
    tau = np.concatenate([np.logspace(-1, 5, 200), [np.inf]])
    load = os.getloadavg()[0]
    lines = [f"== {args.section}",
             f"exact route, psi_p=16 psi_n=4 t=0.1 tanh, seed 0, {len(tau)} times; rfdiff from "
             f"{Path(rfdiff.__file__).parent}",
             f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average at start "
             f"{load:.2f}; stage times recorded: {recording is not None}"]
    print("\n".join(lines), flush=True)
    for d in (100, 200) + ((400,) if args.d400 else ()):
        block = bench(d, tau)
        print("\n".join(block), flush=True)
        lines += block
    _store(args.section, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
