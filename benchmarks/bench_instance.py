"""Wall time and peak memory of the finite-size route, and the paper's protocol for comparison.

Measures, at ψ_p = 16, ψ_n = 4, t = 0.1, tanh:
  1. building the exact matrices (U, V, Ũ, Ṽ) at d = 100 and d = 200;
  2. a 200-point learning curve (decomposition + evaluation) from them;
  3. the paper's protocol (fresh-noise gradient descent) at d = 100 up to τ = 100, the
     accuracy it reaches against the exact curve, and the ratio of wall times.
Each measurement runs in a fresh subprocess so that peak RSS is its own.

Run:  python benchmarks/bench_instance.py  [--quick]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np
import rfdiff
what, d = sys.argv[1], int(sys.argv[2])
problem = rfdiff.Problem(16, 4, 0.1, "tanh")
out = {"what": what, "d": d}
t0 = time.perf_counter()
inst = rfdiff.finite_size_instance(problem, d, seed=0, method="exact")
out["build_s"] = time.perf_counter() - t0
if what in ("curve", "protocol"):
    t1 = time.perf_counter()
    flow = rfdiff.gradient_flow(inst)
    tau = np.logspace(-1, 5, 200)
    curves = rfdiff.learning_curves(flow, tau)
    out["curve_s"] = time.perf_counter() - t1
if what == "protocol":
    dtau = float(sys.argv[3]); steps = int(round(100.0 / dtau))
    t2 = time.perf_counter()
    c = rfdiff.noisy_training(inst, eta=dtau * d**2, steps=steps, points=200, seed=1)
    out["protocol_s"] = time.perf_counter() - t2
    ref = rfdiff.learning_curves(flow, c.tau)
    out["protocol_steps"] = steps
    out["protocol_max_rel_dev_train"] = float(np.max(np.abs(c.train_loss / ref.train_loss - 1)))
    out["protocol_max_rel_dev_test"] = float(np.max(np.abs(c.test_loss / ref.test_loss - 1)))
    out["protocol_max_abs_dev_score"] = float(np.max(np.abs(c.score_error - ref.score_error)))
    out["exact_curve_to_tau100_s"] = out["build_s"] + out["curve_s"]
out["peak_rss_MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def child(*args):
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], capture_output=True,
                         text=True, check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = time.perf_counter() - t0
    return out


def main():
    quick = "--quick" in sys.argv
    results = []
    for d in ([50] if quick else [100, 200]):
        results.append(child("build", d))
        results.append(child("curve", d))
    for dtau in ([0.2] if quick else [0.2, 0.05]):
        r = child("protocol", 50 if quick else 100, dtau)
        r["dtau"] = dtau
        r["time_ratio_protocol_over_exact"] = r["protocol_s"] / r["exact_curve_to_tau100_s"]
        results.append(r)
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
