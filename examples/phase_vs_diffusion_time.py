"""Dependence of the phase diagram on the diffusion time t (tanh, isotropic data).

Left: phases over (t, τ) at ψ_p = 32, ψ_n = 16 (p = 2n) with τ_gen(t) and τ_mem(t) from the
curves and from the spectrum. Right: τ_mem/τ_gen against t for p = 2n, p = n and p ≫ n,
with the fitted exponents over t ≤ 0.1 and a 1/t guide. (At p = n the curve τ_mem is set by
the floor of the memorisation criterion, since L_gen(∞) there is close to it; the spectral
ratio is the meaningful one.)

    python examples/phase_vs_diffusion_time.py [--small] [--out DIR]
"""

import numpy as np

import rfdiff
from rfdiff.plot import (label_legend_handles, new_figure, plot_phase_diffusion_time,
                         plot_timescale_ratio)
from _common import parse, save

args = parse(__doc__)
t = np.logspace(-2, 0, 3 if args.small else 13)
tau = np.logspace(0, 7, 8 if args.small else 57)
sizes = [(32.0, 16.0)] if args.small else [(32.0, 16.0), (16.0, 16.0), (256.0, 8.0)]
deps = [rfdiff.diffusion_time_dependence(rfdiff.Problem(pp, pn, 0.1, "tanh"), t, tau)
        for pp, pn in sizes]
for dep in deps:
    print(f"psi_p={dep.psi_p:g} psi_n={dep.psi_n:g}: tau_mem/tau_gen ~ t^{dep.ratio_exponent:.3f}"
          f" (curves), t^{dep.spectral_ratio_exponent:.3f} (spectrum) over t <= 0.1")
    for k in range(t.size):
        print(f"  t={t[k]:.4g}  tau_gen={dep.tau_gen[k]:.4g} ({dep.tau_gen_spectral[k]:.4g})"
              f"  tau_mem={dep.tau_mem[k]:.4g} ({dep.tau_mem_spectral[k]:.4g})"
              f"  Delta*tau_gen={dep.delta[k] * dep.tau_gen[k]:.3f}  s2={dep.s2[k]:.4g}")
fig, axes = new_figure(1, 2, size=(6, 5))
plot_phase_diffusion_time(axes[0, 0], deps[0])
plot_timescale_ratio(axes[0, 1], deps)
fig.legend(handles=label_legend_handles(), loc="outside lower center", ncols=3,
           fontsize="x-small")
save(args, "phase_vs_diffusion_time", fig, {f"psi_p={d.psi_p:g},psi_n={d.psi_n:g}": d.as_dict()
                                            for d in deps})
