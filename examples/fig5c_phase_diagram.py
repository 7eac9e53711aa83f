"""The paper's Fig. 5C from the asymptotic theory: L_gen and the phases over (ψ_n, ψ_p) at
τ = 10³ and 10⁴, with the boundary ψ_n*(ψ_p), its leading order Δ_t v_t² τ and ψ_n = ψ_p.

    python examples/fig5c_phase_diagram.py [--small] [--out DIR]
"""

import numpy as np

import rfdiff
from rfdiff.plot import new_figure, plot_phase_size
from _common import parse, save

args = parse(__doc__)
n = 5 if args.small else 32
psi_n = np.logspace(-0.5, 3, n)
psi_p = np.logspace(0.5, 3, n)
problem = rfdiff.Problem(64, 8, 0.1, "tanh")
fig, axes = new_figure(1, 2, size=(6, 5))
data = {}
for ax, tau in zip(axes[0], (1e3, 1e4)):
    pm = rfdiff.phase_map_size(problem, psi_n, psi_p, tau, progress=not args.small)
    art = plot_phase_size(ax, pm, "gen_loss")
    fig.colorbar(art, ax=ax, label="L_gen")
    data[f"tau={tau:g}"] = pm.as_dict()
    print(f"tau={tau:g}: boundary [psi_p, psi_n*] =",
          [[round(a, 3), round(b, 3)] for a, b in pm.boundaries["boundary"]])
save(args, "fig5c_phase_diagram", fig, data)
