"""Wall time of the full f_mem(τ) curve at the documented default size.

Default size (docs/generation.md, ``rfdiff generate`` defaults): d = 32, ψ_p = 32
(p = 1024), ψ_n = 0.5 (n = 16), tanh, isotropic data, 24 diffusion times in [1e-3, 5],
16 training times (15 log-spaced in [10, 1e8] and ∞), 1000 samples per τ, exponential
reverse-SDE sampler with 200 steps, plus the three references.

Measured, each in a fresh subprocess (so that compilation is included once, as for a user):
  1. the score field (24 exact instances, decompositions and loss curves);
  2. the same with Gaussian-equivalent matrices (the faster option);
  3. the f_mem(τ) curve from a built field (sampling and metrics at 16 τ, references);
  4. the whole command ``rfdiff generate`` end to end.
Writes benchmarks/results/generate.txt (appends one block per run). Each line records the
1-minute load average before it started: on a shared machine, other processes' load
inflates wall times (a load of 2 on 2 cores is an idle machine plus this benchmark).

Run:  python benchmarks/bench_generate.py  [--quick]
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np
import rfdiff
from rfdiff._generation.study import generation_curve
from rfdiff._generation.score_field import diffusion_times, score_field
what, d, psi_p, psi_n, count, samples = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
    float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
problem = rfdiff.Problem(psi_p, psi_n, 1.0, "tanh")
out = {"what": what, "d": d}
t0 = time.perf_counter()
field = score_field(problem, d, diffusion_times(1e-3, 5.0, count), seed=0,
                    method="gaussian_equivalent" if what == "field_ge" else "exact")
out["field_s"] = time.perf_counter() - t0
out["p"], out["n"], out["times"] = field.p, field.n, count
if what == "curve":
    tau = np.concatenate([np.logspace(1, 8, 15), [np.inf]])
    t1 = time.perf_counter()
    c = generation_curve(field, tau, n_samples=samples)
    out["curve_s"] = time.perf_counter() - t1
    out["per_tau_s"] = c.settings["curve_wall_s"] / len(tau)
    out["tau_points"] = len(tau)
    out["samples"] = samples
    out["f_mem_at_inf"] = float(c.metrics["f_mem"][-1])
out["peak_rss_MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def child(*args):
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], capture_output=True,
                         text=True, check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = time.perf_counter() - t0
    out["load_before"] = load  # the machine may be shared: contention inflates wall times
    return out


def cli(args):
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rfdiff", "generate", "--json", *args],
                   capture_output=True, text=True, check=True)
    return {"what": "cli", "args": " ".join(args) or "(defaults)",
            "process_wall_s": time.perf_counter() - t0, "load_before": load}


def main():
    quick = "--quick" in sys.argv
    size = (16, 8.0, 0.5, 12, 300) if quick else (32, 32.0, 0.5, 24, 1000)
    results = [child("field", *size), child("field_ge", *size), child("curve", *size)]
    if not quick:
        results.append(cli([]))
    header = (f"# {datetime.datetime.now().isoformat(timespec='seconds')}  "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
              f"load average at end {os.getloadavg()[0]:.1f}"
              f"{'  (--quick)' if quick else ''}")
    lines = [header] + [json.dumps(r) for r in results]
    print("\n".join(lines))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "generate.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
