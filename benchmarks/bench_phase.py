"""Wall time of phase maps over (ψ_n, ψ_p) at fixed τ, and the cost scaling with grid size.

Each (grid, devices) pair runs in a fresh process: first a warm-up 8×8 map (compilation of
most shapes, reported as ``warmup_s``), then the timed n×n map (``wall_s``), which still
includes compiling the shapes the warm-up did not use (a few seconds). ``devices`` is the
number of JAX CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=K``); the
maps split their batches over all devices, so K = number of cores uses them all (one CPU
device runs a batch on one thread).

Run:  python benchmarks/bench_phase.py [--quick] [--devices 1,2] [--sizes 8,16,32,64]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
import numpy as np
import jax
import rfdiff
n = int(sys.argv[1])
problem = rfdiff.Problem(64, 8, 0.1, "tanh")
def grid(k):
    return np.logspace(-0.5, 3, k), np.logspace(0.5, 3, k)
t0 = time.perf_counter()
rfdiff.phase_map_size(problem, *grid(8), 1e3)
warm = time.perf_counter() - t0
psi_n, psi_p = grid(n)
t1 = time.perf_counter()
pm = rfdiff.phase_map_size(problem, psi_n * 1.001, psi_p, 1e3)
wall = time.perf_counter() - t1
print(json.dumps({"grid": f"{n}x{n}", "points": n * n, "warmup_s": warm, "wall_s": wall,
                  "converged": bool(pm.converged.all()),
                  "boundary_points": len(pm.boundaries["boundary"]),
                  "devices": [str(d) for d in jax.devices()]}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="sizes 4, 8 only")
    ap.add_argument("--devices", default="1,2", help="comma-separated device counts")
    ap.add_argument("--sizes", default="8,16,32,64", help="comma-separated grid sizes")
    ap.add_argument("--out", default=None, help="append JSON lines to this file")
    args = ap.parse_args()
    sizes = [4, 8] if args.quick else [int(s) for s in args.sizes.split(",")]
    rows = []
    for k in [int(s) for s in args.devices.split(",")]:
        env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={k}"}
        for n in sizes:
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True,
                                 text=True, check=True, env=env)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row.update(process_s=time.perf_counter() - t0, n_devices=k,
                       cpu_count=os.cpu_count(), load_avg_1min=os.getloadavg()[0],
                       machine=platform.machine(), python=platform.python_version())
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
        sel = [r for r in rows if r["n_devices"] == k]
        if len(sel) > 2:
            import numpy as np

            pts = np.array([r["points"] for r in sel[1:]], float)  # skip the smallest
            wall = np.array([r["wall_s"] for r in sel[1:]], float)
            slope = np.polyfit(np.log(pts), np.log(wall), 1)[0]
            summary = {"n_devices": k, "wall_exponent_in_points": slope,
                       "fit_over_points": pts.tolist()}
            print(json.dumps(summary), flush=True)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
