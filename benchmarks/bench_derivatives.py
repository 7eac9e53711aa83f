"""Derivatives of the theory: the cost of a gradient, and the local exponents of τ_mem.

1. Cost: the test loss on 200 τ values (jit, warm), against its reverse-mode gradient
   (jax.grad of the summed test loss, every leaf) and its forward-mode Jacobian in t (200
   outputs, one tangent). Ratios to the curve's own time, measured in this run (target: the
   gradient under 3× the curve).
2. Local exponents d log τ_mem / d log ψ_n at ψ_p = 1024 over ψ_p/ψ_n from 4 to 4096
   (the paper's τ_mem ∝ n is the limit ψ_p ≫ ψ_n), and the fitted exponents of
   rfdiff.scaling_report beside the range of the local ones over the same ψ_n.

    python benchmarks/bench_derivatives.py [--out benchmarks/results/derivatives.txt]
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import rfdiff
from rfdiff import core


def best_of(fn, repeats=5):
    jax.block_until_ready(fn())  # compile and warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)

    with jax.enable_x64(True):
        p = core.params(16.0, 4.0, 0.1)
        tau = jnp.asarray(np.append(np.logspace(-1, 6, 199), np.inf))
        curve = jax.jit(lambda p: core.curves(p, tau).test_loss)
        grad = jax.jit(jax.grad(lambda p: jnp.sum(core.curves(p, tau).test_loss)))
        jac_t = jax.jit(jax.jacfwd(lambda t: core.curves(p.replace(t=t), tau).test_loss))
        t_curve = best_of(lambda: curve(p))
        t_grad = best_of(lambda: grad(p))
        t_jac = best_of(lambda: jac_t(p.t))
        say("cost of derivatives, test loss on 200 tau values (psi_p=16, psi_n=4, t=0.1, tanh)")
        say(f"  curve                      {t_curve:8.3f} s")
        say(f"  reverse grad (all leaves)  {t_grad:8.3f} s  ratio {t_grad / t_curve:5.2f}"
            "  (target < 3)")
        say(f"  forward jacobian in t      {t_jac:8.3f} s  ratio {t_jac / t_curve:5.2f}")
        say()

    def local(psi_p, psi_n):
        """d log τ / d log ψ_n of the spectral τ_mem and τ_gen (rfdiff.core.edges)."""
        with jax.enable_x64(True):
            def logs(log_pn):
                e = core.edges(core.params(psi_p, jnp.exp(log_pn), 0.1))
                return jnp.log(jnp.stack([e.tau_mem, e.tau_gen]))
            return np.asarray(jax.jacfwd(logs)(jnp.log(psi_n)))

    say("local exponents d log tau / d log psi_n (spectral; t = 0.1, tanh)")
    say("  at psi_p = 1024 (psi_n <= 1 has no memorisation bulk: n <= d)")
    say("  psi_p/psi_n   psi_p     psi_n    tau_mem exponent   tau_gen exponent")
    rows = [(1024.0, 1024.0 / r) for r in (4, 16, 64, 256, 1024, 4096)]
    rows += [None] + [(4.0 * r, 4.0) for r in (4, 16, 64, 256, 1024, 4096)]
    for row in rows:
        if row is None:
            say("  at psi_n = 4")
            continue
        pp, pn = row
        a_mem, a_gen = local(pp, pn)
        say(f"  {pp / pn:11.0f} {pp:8.0f} {pn:8.4g}   {a_mem:16.4f}   {a_gen:16.4f}")
    say()
    psi_n = (4.0, 8.0, 16.0, 32.0)
    rep = rfdiff.scaling_report(64.0, psi_n, t=0.1, tau=np.append(np.logspace(-1, 7, 81),
                                                                   np.inf))
    say("scaling report at psi_p = 64, psi_n = 4..32: fitted vs local (spectral)")
    for group, key in (("tau_gen", "tau_gen_spectral"), ("tau_mem", "tau_mem_spectral")):
        a, e = rep.exponents[group]["spectral"]
        loc = rep.local_exponents[key]
        inside = loc.min() <= a <= loc.max()
        say(f"  {group}: fitted {a:.4f} ± {e:.4f}; local {np.round(loc, 4).tolist()} "
            f"(range [{loc.min():.4f}, {loc.max():.4f}]; fitted inside: {inside})")
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
