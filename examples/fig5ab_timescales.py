"""The paper's Fig. 5A–B from the asymptotic theory: E_score and L_gen against τ for several
ψ_n at ψ_p = 64 (collapse against τ/τ_mem in the insets), and τ_gen, τ_mem against ψ_n.

    python examples/fig5ab_timescales.py [--small] [--out DIR]
"""

import numpy as np

import rfdiff
from rfdiff.plot import new_figure, plot_scaling_curves, plot_scaling_times
from _common import parse, save

args = parse(__doc__)
psi_n = (4.0, 8.0) if args.small else (4.0, 8.0, 16.0, 32.0)
tau = np.append(np.logspace(-1, 6, 29 if args.small else 141), np.inf)
rep = rfdiff.scaling_report(64.0, psi_n, t=0.1, activation="tanh", tau=tau)
fig, axes = new_figure(1, 3, size=(5, 4))
plot_scaling_curves(axes[0, 0], rep, "score_error")
plot_scaling_curves(axes[0, 1], rep, "gen_loss")
plot_scaling_times(axes[0, 2], rep)
save(args, "fig5ab_timescales", fig, rep.as_dict())
for key, (a, e) in rep.exponents["tau_mem"].items():
    print(f"tau_mem ({key}) ∝ psi_n^{a:.3f} ± {e:.3f}")
for key, (a, e) in rep.exponents["tau_gen"].items():
    print(f"tau_gen ({key}) ∝ psi_n^{a:.3f} ± {e:.3f}")
# local exponents d log τ / d log ψ_n at each ψ_n (automatic differentiation through the
# spectral edges); the fitted spectral exponents above are averages of these over the range
for key in ("tau_gen_spectral", "tau_mem_spectral"):
    local = rep.local_exponents[key]
    print(f"local d log {key} / d log psi_n: "
          + ", ".join(f"{a:.3f} (psi_n={pn:g})" for pn, a in zip(rep.psi_n, local)))
