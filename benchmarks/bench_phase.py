"""Wall time of phase maps over (ψ_n, ψ_p) at fixed τ, and the cost scaling with grid size.

Each size runs in a fresh process (compile time reported separately: the first call of a
size includes compilation; a second call of the same size measures the steady cost).

Run:  python benchmarks/bench_phase.py [--quick]
"""

from __future__ import annotations

import json
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
psi_n = np.logspace(-0.5, 3, n); psi_p = np.logspace(0.5, 3, n)
t0 = time.perf_counter()
pm = rfdiff.phase_map_size(problem, psi_n, psi_p, 1e3)
first = time.perf_counter() - t0
t1 = time.perf_counter()
pm = rfdiff.phase_map_size(problem, psi_n * 1.001, psi_p, 1e3)
second = time.perf_counter() - t1
print(json.dumps({"grid": f"{n}x{n}", "points": n * n, "first_call_s": first,
                  "steady_s": second, "converged": bool(pm.converged.all()),
                  "devices": [str(d) for d in jax.devices()]}))
"""


def main():
    sizes = [4, 8] if "--quick" in sys.argv else [8, 16, 32, 64]
    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True,
                             text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["process_s"] = time.perf_counter() - t0
        rows.append(row)
        print(json.dumps(row), flush=True)
    if len(rows) > 1:
        import numpy as np

        pts = np.array([r["points"] for r in rows], float)
        steady = np.array([r["steady_s"] for r in rows], float)
        slope = np.polyfit(np.log(pts), np.log(steady), 1)[0]
        print(json.dumps({"steady_cost_exponent_in_points": slope}))


if __name__ == "__main__":
    main()
