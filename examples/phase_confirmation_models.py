"""Phase boundaries of the theory against finite-size runs for other models: relu with
two-atom data (ρ_Σ = ½δ_0.5 + ½δ_1.5) and erf with isotropic data (t = 0.1, ψ_p = 16).

τ_gen(ψ_n), τ_mem(ψ_n) at ψ_n = 1, 4 and ψ_n*(ψ_p) at τ = 10³ for ψ_p = 2, 16, from the
theory and located on exact d = 100 runs (seed 0). The figure plots simulation against
theory for every boundary value.

    python examples/phase_confirmation_models.py [--small] [--out DIR]
"""

import time

import numpy as np

import rfdiff
from rfdiff.plot import new_figure
from _common import parse, save

args = parse(__doc__)
d, psi_n, psi_p = (16, [4.0], [16.0]) if args.small else (100, [1.0, 4.0], [2.0, 16.0])
t0 = time.perf_counter()
rows = []
for act, spec in (("relu", rfdiff.tools.two_atom()), ("erf", rfdiff.tools.isotropic())):
    pr = rfdiff.Problem(16, 4, 0.1, act, spec)
    th = rfdiff.time_boundaries(pr, psi_n)
    sim = rfdiff.tools.simulated_time_boundaries(pr, psi_n, d=d, seed=0)
    for i, pn in enumerate(psi_n):
        for key in ("tau_gen", "tau_mem"):
            rows.append({"model": f"{act}, sigma={spec}", "boundary": key, "psi_n": pn,
                         "psi_p": 16.0, "theory": float(th[key][i]),
                         "simulation": float(sim[key][i])})
    b = rfdiff.size_boundary(pr, psi_p, 1e3)
    star = np.asarray(b["psi_n_star"])
    s = rfdiff.tools.simulated_size_boundary(pr, psi_p, 1e3, np.stack([star / 1.5, star * 1.5], 1),
                                       d=d, seed=0)
    for i, pp in enumerate(psi_p):
        rows.append({"model": f"{act}, sigma={spec}", "boundary": "psi_n_star", "psi_n": None,
                     "psi_p": pp, "theory": float(star[i]),
                     "simulation": float(s["psi_n_star"][i]),
                     "bracket": [float(s["psi_n_lo"][i]), float(s["psi_n_hi"][i])]})
for r in rows:
    r["rel_dev"] = abs(r["simulation"] / r["theory"] - 1)
    print(f"{r['model']:48s} {r['boundary']:10s} psi_n={r['psi_n']} psi_p={r['psi_p']:g}: "
          f"theory {r['theory']:.4g}, d={d} {r['simulation']:.4g} ({r['rel_dev']:.1%})")
wall = time.perf_counter() - t0
print(f"max relative deviation {max(r['rel_dev'] for r in rows):.1%}; wall {wall:.0f} s")
fig, axes = new_figure(1, 1, size=(4.5, 4.5))
ax = axes[0, 0]
for k, key in enumerate(("tau_gen", "tau_mem", "psi_n_star")):
    for m, model in zip("os", sorted({r["model"] for r in rows})):
        sel = [r for r in rows if r["boundary"] == key and r["model"] == model]
        ax.plot([r["theory"] for r in sel], [r["simulation"] for r in sel], m, color=f"C{k}",
                label=f"{key}: {model.split(',')[0]}")
lim = [min(r["theory"] for r in rows) / 2, max(r["theory"] for r in rows) * 2]
ax.plot(lim, lim, "k:", lw=1)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("theory")
ax.set_ylabel(f"finite size, d = {d}")
ax.legend(fontsize="x-small")
save(args, "phase_confirmation_models", fig, {"d": d, "rows": rows, "wall_s": wall})
