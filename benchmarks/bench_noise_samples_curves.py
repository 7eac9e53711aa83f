"""Finitely many noise samples: asymptotic learning curves against finite-size flows, and cost.

The m-sample model (m fixed noise draws per training point), t = 0.1, tanh, isotropic data,
ψ_n = 4, weight decay λ = 1e-2. Finite size: ``finite_size_instance(method="monte_carlo")``
with ``noise_samples=m`` (exactly m draws per point; exact Gaussian population), gradient
flow from M(0) = 0, mean over seeds 0 and 1, at d = 100 and 200.

1. τ = ∞, m ∈ {1, 4}, ψ_p ∈ {0.5, 1, 2, 4, 8, 12, 16}: L_train, L_test and E_score of the
   finite size against :func:`rfdiff.asymptotic_curves`, the deviations (finite − theory),
   the seed half-difference (a rough statistical error of the mean), and per (m, d) the mean
   |deviation| of L_test over ψ_p with the fitted slope of its log against log d (O(1/d)
   corrections: slope ≈ −1; a slope near 0 means seed noise or a wrong limit).
2. finite τ ∈ {0.3, 1, 3, 10, 30, 100, 300} at m = 1, ψ_p = 8: the same, per τ (the flows of
   part 1 serve).
3. cost of the theory: wall time of ``asymptotic_curves`` at one point with a 32-point τ grid
   and of ``batched_curves`` over a 32-point ψ_p sweep, for m = ∞, 1, 4: the first call in a
   fresh process (compilation included, import excluded) and the median of 5 repeated calls,
   with the ratios to m = ∞ and, as the machine's own speed, the median time of a
   2000×2000 float64 matmul (NumPy) and the load average.

Run: ``python benchmarks/bench_noise_samples_curves.py
[--out benchmarks/results/noise_samples_curves.txt] [--quick]`` (``--quick``: d = 50, 100,
one seed, ψ_p ≤ 8; minutes instead of 10-20 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import rfdiff

SAMPLES = (1, 4)
PSI_P = (0.5, 1.0, 2.0, 4.0, 8.0, 12.0, 16.0)
PSI_N = 4.0
T = 0.1
RIDGE = 1e-2
TAU = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
TAU_PSI_P = 8.0  # part 2 point
FIELDS = ("train_loss", "test_loss", "score_error")
SHORT = {"train_loss": "train", "test_loss": "test", "score_error": "score"}
COST_TAU = np.append(np.logspace(-1, 4, 31), np.inf)  # 32 times
COST_PSI_P = np.logspace(math.log10(0.5), math.log10(16.0), 32)
REPEATS = 5


def problem(psi_p, m):
    return rfdiff.Problem(psi_p, PSI_N, T, "tanh", ridge=RIDGE, noise_samples=m)


def check(curves, label, say):
    """Say which times did not converge (with the residual); True when all did."""
    conv = np.asarray(curves.converged, bool)
    if not conv.all():
        bad = np.flatnonzero(~conv.ravel())
        tau = np.asarray(curves.tau, float).ravel()
        res = np.asarray(curves.residual, float).ravel()
        say(f"NOT CONVERGED {label}: " + ", ".join(f"tau={tau[k]:g} residual={res[k]:.2e}"
                                                  for k in bad))
    return bool(conv.all())


def slope(ds, values):
    return float(np.polyfit(np.log(ds), np.log(values), 1)[0])


def first_call_seconds(kind, m):
    """Time of the first call of ``kind`` at noise_samples m in a fresh process."""
    code = (
        "import math, time, numpy as np, rfdiff\n"
        f"m = {m!r} if {m!r} != 'inf' else math.inf\n"
        f"p = rfdiff.Problem(8.0, {PSI_N}, {T}, 'tanh', ridge={RIDGE}, noise_samples=m)\n"
        f"tau = np.append(np.logspace(-1, 4, 31), np.inf)\n"
        f"pp = np.logspace(math.log10(0.5), math.log10(16.0), 32)\n"
        "t0 = time.perf_counter()\n"
        + ("c = rfdiff.asymptotic_curves(p, tau)\n" if kind == "point" else
           "c = rfdiff.core.batched_curves(p, pp, np.full(32, p.psi_n), tau)\n")
        + "print(time.perf_counter() - t0, bool(np.all(c.converged)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=os.environ.copy()).stdout.split()
    return float(out[0]), out[1] == "True"


def repeated_seconds(fn):
    fn()  # compile in this process first
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_seconds():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 2000, 2000))
    a @ b
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the report to this file")
    parser.add_argument("--quick", action="store_true",
                        help="d = 50, 100, one seed, psi_p <= 8")
    args = parser.parse_args(argv)
    sizes = (50, 100) if args.quick else (100, 200)
    seeds = (0,) if args.quick else (0, 1)
    psi_ps = tuple(x for x in PSI_P if x <= 8.0) if args.quick else PSI_P
    lines = [f"m-sample model: psi_n={PSI_N:g}, t={T}, tanh, isotropic, lambda={RIDGE:g}; "
             f"finite size monte_carlo, d={sizes}, seeds {seeds} (mean); "
             "dev = finite - theory, err = |seed0 - seed1|/2"]

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    ref = matmul_seconds()
    say(f"machine: 2000x2000 float64 matmul (NumPy) median {ref * 1e3:.1f} ms "
        f"({2 * 2000 ** 3 / ref / 1e9:.1f} GFLOP/s); load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()))

    # theory
    all_ok = True
    theory = {}
    for m in SAMPLES:
        for psi_p in psi_ps:
            grid = np.append(TAU, np.inf) if (m == 1 and psi_p == TAU_PSI_P) else [np.inf]
            c = rfdiff.asymptotic_curves(problem(psi_p, m), np.asarray(grid))
            all_ok &= check(c, f"m={m} psi_p={psi_p:g} lambda={RIDGE:g}", say)
            theory[m, psi_p] = c
    say(f"theory: every point converged: {all_ok}")

    # finite size: one flow per (m, ψ_p, d, seed)
    sims = {}
    start = time.perf_counter()
    for d in sizes:
        for m in SAMPLES:
            for psi_p in psi_ps:
                t0 = time.perf_counter()
                for seed in seeds:
                    inst = rfdiff.finite_size_instance(problem(psi_p, m), d, seed=seed,
                                                       method="monte_carlo")
                    grid = theory[m, psi_p].tau
                    sims[m, psi_p, d, seed] = rfdiff.learning_curves(
                        rfdiff.gradient_flow(inst), np.asarray(grid))
                say(f"  finite size d={d} m={m} psi_p={psi_p:g} (p={round(psi_p * d)}): "
                    f"{time.perf_counter() - t0:.1f} s [total {time.perf_counter() - start:.0f} s]")

    def stats(key, field, k):
        vals = [float(np.asarray(getattr(sims[key + (s,)], field))[k]) for s in seeds]
        return float(np.mean(vals)), (abs(vals[0] - vals[1]) / 2 if len(vals) > 1 else
                                      float("nan"))

    def table(rows, head):
        """Print the rows; return {field: {group: mean |dev| over the group's rows}}."""
        say(head)
        say(" " * 22 + " ".join(f"{SHORT[f] + ' fin':>11s} {'th':>9s} {'dev':>9s} {'err':>8s}"
                                for f in FIELDS) + f" {'test rel':>9s}")
        mean_dev = {f: {} for f in FIELDS}
        for label, key, th_curves, k, group in rows:
            cells = []
            for f in FIELDS:
                fin, err = stats(key, f, k)
                th = float(np.asarray(getattr(th_curves, f))[k])
                cells.append(f"{fin:11.6f} {th:9.6f} {fin - th:+9.2e} {err:8.1e}")
                mean_dev[f].setdefault(group, []).append(abs(fin - th))
                if f == "test_loss":
                    rel = (fin - th) / th
            say(f"  {label:20s}" + " ".join(cells) + f" {rel:+9.2e}")
        return {f: {g: float(np.mean(v)) for g, v in mean_dev[f].items()} for f in FIELDS}

    def falls(summary, over):
        say(f"   mean over {over} of |dev| per d, slope of its log vs log d (test loss first)")
        for f in ("test_loss", "train_loss", "score_error"):
            devs = [summary[f][d] for d in sizes]
            say(f"     {f:11s} " + ", ".join(f"d={d}: {v:.3e}" for d, v in zip(sizes, devs))
                + f"  slope={slope(sizes, devs):+.2f}  falls: {devs[-1] < devs[0]}")

    say("\n1. tau = inf: finite size vs theory")
    for m in SAMPLES:
        rows = [(f"m={m} psi_p={psi_p:g} d={d}", (m, psi_p, d), theory[m, psi_p], -1, d)
                for psi_p in psi_ps for d in sizes]
        falls(table(rows, f"m={m}"), "psi_p")

    if TAU_PSI_P in psi_ps:
        say(f"\n2. finite tau, m=1, psi_p={TAU_PSI_P:g}: finite size vs theory")
        th = theory[1, TAU_PSI_P]
        rows = [(f"tau={tau:g} d={d}", (1, TAU_PSI_P, d), th, k, d)
                for k, tau in enumerate(TAU) for d in sizes]
        falls(table(rows, "m=1"), "tau")

    say(f"\n3. cost of the theory (tau grid of {COST_TAU.size} points incl. inf; psi_p sweep "
        f"of {COST_PSI_P.size} points in [0.5, 16] via rfdiff.core.batched_curves)")
    say(f"   first call: fresh process, compilation included, import excluded; repeated: "
        f"median of {REPEATS}")
    cost = {}
    for kind in ("point", "sweep"):
        for m in (math.inf, 1, 4):
            p = problem(8.0, m)
            if kind == "point":
                def fn(p=p):
                    return rfdiff.asymptotic_curves(p, COST_TAU)
            else:
                def fn(p=p):
                    return rfdiff.core.batched_curves(
                        p, COST_PSI_P, np.full(COST_PSI_P.size, PSI_N), COST_TAU)
            first, ok_first = first_call_seconds(kind, "inf" if m == math.inf else m)
            rep = repeated_seconds(fn)
            ok = check(fn(), f"cost {kind} m={m} lambda={RIDGE:g}", say) and ok_first
            cost[kind, m] = (first, rep)
            say(f"   {kind:5s} m={m!s:3s}: first {first:7.2f} s   repeated {rep:8.4f} s   "
                f"({rep / ref:7.1f} matmuls)  converged: {ok}")
        for m in (1, 4):
            say(f"   {kind:5s} ratio m={m} / m=inf: first "
                f"{cost[kind, m][0] / cost[kind, math.inf][0]:.2f}, repeated "
                f"{cost[kind, m][1] / cost[kind, math.inf][1]:.2f}")
    say("load average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
