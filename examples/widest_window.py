"""The diffusion time t that widens the generalisation window τ_mem/τ_gen most, at fixed
(ψ_p, ψ_n), by gradient ascent on log(τ_mem/τ_gen) in log t.

The spectral τ_gen and τ_mem are functions of the edges of the spectrum of U;
rfdiff.core.edges gives them with derivatives by the implicit-function theorem, so the
search is a plain gradient method (here: gradient ascent with a backtracking step). A coarse
scan of t checks the optimum.

    python examples/widest_window.py [--small] [--out DIR]
"""

import jax
import jax.numpy as jnp
import numpy as np

from rfdiff import core
from rfdiff.plot import new_figure
from _common import parse, save

args = parse(__doc__)
PSI_P, PSI_N = 32.0, 4.0


def log_window(log_t):
    e = core.edges(core.params(PSI_P, PSI_N, jnp.exp(log_t)))
    return jnp.log(e.tau_mem / e.tau_gen)


with jax.enable_x64(True):
    # compiled once: every later call runs the host edge search and the derivative rule
    value_and_grad = jax.jit(jax.value_and_grad(log_window))
    window = jax.jit(log_window)
    x, step = jnp.log(0.05), 1.0
    f, g = value_and_grad(x)
    path = [(float(jnp.exp(x)), float(jnp.exp(f)), float(g))]
    for _ in range(4 if args.small else 25):
        # backtracking: halve the step until log W increases (Armijo condition)
        while True:
            x_new = x + step * g
            f_new, g_new = value_and_grad(x_new)
            if f_new >= f + 1e-4 * step * g**2 or step < 1e-6:
                break
            step /= 2
        x, f, g = x_new, f_new, g_new
        step = min(2 * step, 4.0)
        path.append((float(jnp.exp(x)), float(jnp.exp(f)), float(g)))
        if abs(float(g)) < 1e-6:
            break
    scan_t = np.logspace(-2.5, 0.5, 7 if args.small else 25)
    scan = [float(jnp.exp(window(jnp.log(t)))) for t in scan_t]

t_best, w_best, g_best = path[-1]
print(f"psi_p={PSI_P:g}, psi_n={PSI_N:g}: widest window tau_mem/tau_gen = {w_best:.4g} "
      f"at t = {t_best:.4g} (d log W / d log t = {g_best:.2e}, {len(path) - 1} steps)")
i = int(np.nanargmax(scan))  # NaN where a part is absent (merged or gone)
print(f"scan of {scan_t.size} times: best {scan[i]:.4g} at t = {scan_t[i]:.4g}")
fig, axes = new_figure(1, 1)
ax = axes[0, 0]
ax.plot(scan_t, scan, "o-", color="C0", label="scan")
ax.plot([p[0] for p in path], [p[1] for p in path], "x--", color="C3", label="gradient ascent")
ax.set_xscale("log")
ax.set_xlabel("diffusion time t")
ax.set_ylabel("τ_mem / τ_gen (spectral)")
ax.set_title(f"ψp={PSI_P:g}, ψn={PSI_N:g}")
ax.legend()
save(args, "widest_window", fig, {"path": path, "scan_t": scan_t.tolist(), "scan": scan,
                                  "t_best": t_best, "window_best": w_best})
