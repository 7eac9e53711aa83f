"""The paper's training protocol against the gradient flow: predicted vs measured excess.

For ψ_p = 8, ψ_n = 4, t = 0.1, tanh (isotropic data, instance seed 0) at d = 16 and 32 and
learning rates η = f·η_paper, f ∈ {1, 1/2, 1/4, 1/8}, where η_paper = 0.01·ψ_p d²/Δ_t is the
public training script's lr 0.01·d/Δ_t on its output weights A/√p (δτ = η/d² = 0.01ψ_p/Δ_t):

1. per logged τ: the predicted noise excess E[L(noisy)] − L(gradient descent) of
   :func:`rfdiff.tools.protocol_excess` (Monte Carlo, ``--draws`` per point) against the
   measured one (:func:`rfdiff.tools.protocol_measurement`, ``--seeds`` runs of
   :func:`rfdiff.noisy_training`), their ratio, and the excess over the flow (predicted
   noise + exact discretisation, against the mean of the logged curves minus the flow);
2. the pooled ratio Σ_τ measured / Σ_τ predicted over τ ≥ 1 per (d, f), and its fit
   1 + a·δτ + b (b = 0 is the first-order claim);
3. the relative excess at the paper's learning rate (noise excess / loss);
4. the paper's own setting d = 64, ψ_p = 16, ψ_n = 4 at its learning rate (δτ = 0.88):
   predicted (``--paper-draws``) and measured (``--paper-seeds`` runs) excess per loss,
   relative to the flow's loss.

Run: ``python benchmarks/bench_protocol.py [--out benchmarks/results/protocol.txt]``
(about 6 minutes on two cores).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import rfdiff
from rfdiff.tools import protocol_excess, protocol_measurement

SIZES = (16, 32)
FRACTIONS = (1.0, 0.5, 0.25, 0.125)
T_MAX = 40.0
NAMES = ("train_loss", "test_loss", "score_error")


def _ratio(m, p, ms, ps):
    r = m / p
    return r, np.abs(r) * np.hypot(ms / m, ps / p)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the report to this file")
    parser.add_argument("--seeds", type=int, nargs=2, default=(128, 48),
                        help="noisy runs at d = 16 and d = 32")
    parser.add_argument("--draws", type=int, default=256, help="noise draws per point for Ξ")
    parser.add_argument("--paper-seeds", type=int, default=8)
    parser.add_argument("--paper-draws", type=int, default=16)
    args = parser.parse_args(argv)
    problem = rfdiff.Problem(8.0, 4.0, 0.1, "tanh")
    delta = problem.delta
    lines = [(f"problem: psi_p=8, psi_n=4, t=0.1, tanh, isotropic; instance seed 0; "
              f"Delta_t={delta:.5f}; tau up to {T_MAX:g}; {args.draws} noise draws per point"),
             ("eta_paper = 0.01 psi_p d^2/Delta_t (lr 0.01 d/Delta_t on A/sqrt(p)); ratio = "
              "measured/predicted noise excess (noisy - gradient descent at the same eta)")]

    def say(text=""):
        lines.append(text)
        print(text, flush=True)

    for line in lines:
        print(line)
    summary = []
    for d, seeds in zip(SIZES, args.seeds):
        t0 = time.perf_counter()
        inst = rfdiff.finite_size_instance(problem, d, seed=0)
        flow = rfdiff.gradient_flow(inst)
        say(f"\n== d={d} (p={inst.p}, n={inst.n}), {seeds} noisy runs per eta; "
            f"instance {time.perf_counter() - t0:.1f} s")
        for f in FRACTIONS:
            dtau = f * 0.01 * problem.psi_p / delta
            eta = dtau * d**2
            t1 = time.perf_counter()
            meas = protocol_measurement(inst, eta, round(T_MAX / dtau), seeds=seeds,
                                        points=8)
            t2 = time.perf_counter()
            pred = protocol_excess(inst, eta, meas.tau, noise_draws=args.draws)
            t3 = time.perf_counter()
            ref = rfdiff.learning_curves(flow, meas.tau)
            say(f"\n-- f={f:g}: eta={eta:.4g}, dtau={dtau:.4f}, steps={round(T_MAX / dtau)}"
                f"  (measure {t2 - t1:.1f} s, predict {t3 - t2:.1f} s, {pred.nodes} nodes)")
            say(f"{'loss':11s} {'tau':>7s} {'L_flow':>8s} {'pred noise':>20s} "
                f"{'meas noise':>20s} {'ratio':>13s} {'pred total':>10s} {'meas total':>20s}")
            pooled = {}
            for i, name in enumerate(NAMES):
                L = np.asarray(getattr(ref, name))
                pn, ps = pred.noise[i], pred.noise_se[i]
                mn, ms = meas.noise[i], meas.noise_se[i]
                r, rs = _ratio(mn, pn, ms, ps)
                for j, tau in enumerate(meas.tau):
                    say(f"{name:11s} {tau:7.3f} {L[j]:8.5f} {pn[j]:10.3e} ± {ps[j]:7.1e} "
                        f"{mn[j]:10.3e} ± {ms[j]:7.1e} {r[j]:6.3f} ± {rs[j]:.3f} "
                        f"{pred.total[i][j]:10.3e} {meas.total[i][j]:10.3e} ± "
                        f"{meas.direct_se[i][j]:7.1e}")
                late = meas.tau >= 1.0
                # the pooled sums share draws and runs across τ: errors added linearly
                pr_, pm = np.sum(pn[late]), np.sum(mn[late])
                pooled[name] = _ratio(pm, pr_, np.sum(ms[late]), np.sum(ps[late]))
                rel = np.max(pn / L)
                summary.append((d, f, dtau, name, *pooled[name], rel))
            say("pooled ratio over tau >= 1: " + ", ".join(
                f"{k} {v[0]:.3f} ± {v[1]:.3f}" for k, v in pooled.items()))

    say("\n== summary: pooled ratio (tau >= 1) and max over tau of predicted noise excess / L_flow")
    say(f"{'d':>3s} {'f':>6s} {'dtau':>7s} {'loss':11s} {'ratio':>15s} {'excess/L':>9s}")
    for d, f, dtau, name, r, rs, rel in summary:
        say(f"{d:3d} {f:6.3f} {dtau:7.4f} {name:11s} {r:7.3f} ± {rs:.3f} {rel:9.2e}")
    say("\nfit ratio = 1 + b + a*dtau (weighted least squares over f):")
    for d in SIZES:
        for name in NAMES:
            rows = [s for s in summary if s[0] == d and s[3] == name]
            x = np.array([s[2] for s in rows])
            y = np.array([s[4] for s in rows])
            w = 1 / np.array([s[5] for s in rows]) ** 2
            A = np.vstack([np.ones_like(x), x]).T
            cov = np.linalg.inv(A.T @ (w[:, None] * A))
            b, a = cov @ (A.T @ (w * y))
            say(f"d={d:3d} {name:11s} b = {b - 1:+.3f} ± {np.sqrt(cov[0, 0]):.3f}, "
                f"a = {a:+.3f} ± {np.sqrt(cov[1, 1]):.3f} per unit dtau")
    paper = rfdiff.Problem(16.0, 4.0, 0.1, "tanh")
    inst = rfdiff.finite_size_instance(paper, 64, seed=0)
    dtau = 0.01 * paper.psi_p / paper.delta
    t1 = time.perf_counter()
    meas = protocol_measurement(inst, dtau * 64**2, round(T_MAX / dtau),
                                seeds=args.paper_seeds, points=8)
    pred = protocol_excess(inst, dtau * 64**2, meas.tau, noise_draws=args.paper_draws)
    ref = rfdiff.learning_curves(rfdiff.gradient_flow(inst), meas.tau)
    say(f"\n== paper setting d=64, psi_p=16, psi_n=4, t=0.1 at its lr: dtau={dtau:.4f}; "
        f"{args.paper_seeds} runs, {args.paper_draws} draws ({time.perf_counter() - t1:.0f} s)")
    say(f"{'loss':11s} {'tau':>7s} {'L_flow':>8s} {'pred noise/L':>13s} {'meas noise/L':>21s} "
        f"{'ratio':>6s} {'pred total/L':>12s} {'meas total/L':>21s}")
    for i, name in enumerate(NAMES):
        L = np.asarray(getattr(ref, name))
        for j, tau in enumerate(meas.tau):
            say(f"{name:11s} {tau:7.3f} {L[j]:8.5f} {pred.noise[i][j] / L[j]:13.4e} "
                f"{meas.noise[i][j] / L[j]:11.4e} ± {meas.noise_se[i][j] / L[j]:7.1e} "
                f"{meas.noise[i][j] / pred.noise[i][j]:6.3f} {pred.total[i][j] / L[j]:12.4e} "
                f"{meas.total[i][j] / L[j]:11.4e} ± {meas.direct_se[i][j] / L[j]:7.1e}")
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
