"""Phase boundaries of the theory against finite-size runs (exact method).

Both maps of the phase diagram, with t = 0.1, tanh, isotropic data:

- (ψ_n, τ) at ψ_p = 16: τ_gen(ψ_n) and τ_mem(ψ_n) from the theory and located on exact
  finite-size learning curves at d = 50, 100, 200 (two seeds at d ≤ 100); labels of the
  theory and of d = 100 runs at points a factor 2 on either side of each boundary;
- (ψ_n, ψ_p) at τ = 10³: ψ_n*(ψ_p) from the theory and bisected over n on d = 50, 100 and 200
  runs; labels at ψ_n*/2 and 2ψ_n*.

    python examples/phase_confirmation.py [--small] [--out DIR]

Writes phase_confirmation.png/.json and prints the tables (about 20 minutes on 2 cores;
``--small`` runs d = 20 on a few points).
"""

import time

import numpy as np

import rfdiff
from rfdiff.tools import boundary_points, simulated_size_boundary, simulated_time_boundaries
from rfdiff.plot import (label_legend_handles, new_figure, overlay_confirmation, plot_phase_size,
                         plot_phase_time)
from _common import parse, save

args = parse(__doc__)
t0 = time.perf_counter()
FACTOR = 2.0        # labels are compared a factor 2 away from the theory boundaries
if args.small:
    sizes, psi_n_pts, psi_p_pts, d_labels, nmap = [(20, 0)], [4.0], [16.0], 20, 5
else:
    sizes = [(50, 0), (50, 1), (100, 0), (100, 1), (200, 0)]
    psi_n_pts, psi_p_pts, d_labels, nmap = [0.5, 1, 2, 4, 8], [0.5, 1, 2, 4, 8, 16, 32], 100, 24
TAU_SIZE = 1e3
problem = rfdiff.Problem(16, 4, 0.1, "tanh")


def rel(a, b):
    return float(abs(a / b - 1)) if np.isfinite(a) and np.isfinite(b) else float("nan")


# ---- (ψ_n, τ) map at ψ_p = 16 ----
pm_time = rfdiff.phase_map_time(problem, np.array(psi_n_pts, float), np.logspace(0, 5, 11))
bt = pm_time.boundaries
time_rows, sims_time = [], {}
for d, seed in sizes:
    sim = simulated_time_boundaries(problem, psi_n_pts, d=d, seed=seed)
    sims_time[f"d={d},seed={seed}"] = {k: np.asarray(v).tolist() if np.ndim(v) else v
                                       for k, v in sim.items()}
    for i, pn in enumerate(psi_n_pts):
        time_rows.append({"d": d, "seed": seed, "psi_n": pn,
                          "tau_gen_theory": float(bt["boundary_tau_gen"][i]),
                          "tau_gen_sim": float(sim["tau_gen"][i]),
                          "tau_mem_theory": float(bt["boundary_tau_mem"][i]),
                          "tau_mem_sim": float(sim["tau_mem"][i]),
                          "tau_gen_rel_dev": rel(sim["tau_gen"][i], bt["boundary_tau_gen"][i]),
                          "tau_mem_rel_dev": rel(sim["tau_mem"][i], bt["boundary_tau_mem"][i])})
    print(f"[{time.perf_counter() - t0:6.0f} s] time boundaries d={d} seed={seed}", flush=True)
time_points = rfdiff.tools.confirm_points(pm_time, boundary_points(pm_time, FACTOR), d=d_labels)
print(f"[{time.perf_counter() - t0:6.0f} s] time-map labels", flush=True)

# ---- (ψ_n, ψ_p) map at τ = 10³ ----
pm_size = rfdiff.phase_map_size(problem, np.logspace(-1, 2, 7), np.array(psi_p_pts, float),
                                TAU_SIZE)
star = np.asarray(pm_size.boundaries["psi_n_star"], float)
size_rows, sims_size = [], {}
for d in sorted({d for d, _ in sizes}):
    sim = simulated_size_boundary(problem, psi_p_pts, TAU_SIZE,
                                  np.stack([star / 1.5, star * 1.5], 1), d=d, seed=0)
    sims_size[f"d={d},seed=0"] = {k: np.asarray(v).tolist() if np.ndim(v) else v
                                  for k, v in sim.items()}
    for i, pp in enumerate(psi_p_pts):
        lo, hi = sim["psi_n_lo"][i], sim["psi_n_hi"][i]
        size_rows.append({"d": d, "seed": 0, "psi_p": pp, "psi_n_star_theory": float(star[i]),
                          "psi_n_star_sim": float(sim["psi_n_star"][i]),
                          "sim_bracket": [float(lo), float(hi)],
                          "rel_dev": rel(sim["psi_n_star"][i], star[i]),
                          "theory_in_bracket_widened_by_resolution":
                              bool(lo / (1 + 1 / (d * lo)) <= star[i] <= hi * (1 + 1 / (d * hi)))})
    print(f"[{time.perf_counter() - t0:6.0f} s] size boundary d={d}", flush=True)
size_points = rfdiff.tools.confirm_points(pm_size, boundary_points(pm_size, FACTOR), d=d_labels)
print(f"[{time.perf_counter() - t0:6.0f} s] size-map labels", flush=True)


def summary(rows, keys):
    out = {}
    for d in sorted({r["d"] for r in rows}):
        sel = [r for r in rows if r["d"] == d]
        out[str(d)] = {k: float(np.nanmax([r[k] for r in sel])) for k in keys}
    return out


result = {
    "parameters": {**problem.params(), "psi_p_time_map": 16.0, "tau_size_map": TAU_SIZE,
                   "label_factor": FACTOR, "label_d": d_labels},
    "definitions": pm_time.thresholds.describe(),
    "time_boundaries": time_rows, "time_simulated": sims_time,
    "time_points": time_points,
    "time_points_agreement": float(np.mean([r["agree"] for r in time_points])),
    "time_max_rel_dev": summary(time_rows, ["tau_gen_rel_dev", "tau_mem_rel_dev"]),
    "size_boundaries": size_rows, "size_simulated": sims_size,
    "size_points": size_points,
    "size_points_agreement": float(np.mean([r["agree"] for r in size_points])),
    "size_max_rel_dev": summary(size_rows, ["rel_dev"]),
    "wall_s": time.perf_counter() - t0,
}

print("\n| d | seed | ψ_n | τ_gen theory | τ_gen sim | τ_mem theory | τ_mem sim |")
print("|---|---|---|---|---|---|---|")
for r in time_rows:
    print(f"| {r['d']} | {r['seed']} | {r['psi_n']:g} | {r['tau_gen_theory']:.3g} | "
          f"{r['tau_gen_sim']:.3g} ({r['tau_gen_rel_dev']:.1%}) | {r['tau_mem_theory']:.4g} | "
          f"{r['tau_mem_sim']:.4g} ({r['tau_mem_rel_dev']:.1%}) |")
print("\n| d | ψ_p | ψ_n* theory | ψ_n* sim [bracket] |")
print("|---|---|---|---|")
for r in size_rows:
    print(f"| {r['d']} | {r['psi_p']:g} | {r['psi_n_star_theory']:.4g} | "
          f"{r['psi_n_star_sim']:.4g} [{r['sim_bracket'][0]:.4g}, {r['sim_bracket'][1]:.4g}]"
          f" ({r['rel_dev']:.1%}) |")
for name in ("time", "size"):
    pts = result[f"{name}_points"]
    print(f"\n{name} map, d = {d_labels}: {sum(r['agree'] for r in pts)}/{len(pts)} labels agree")
    for r in pts:
        print(f"  psi_n={r['psi_n']:.4g} psi_p={r['psi_p']:.4g} tau={r['tau']:.4g}: "
              f"theory {r['theory']}, simulation {r['simulation']} "
              f"(L_gen {r['theory_gen_loss']:.3f} vs {r['simulation_gen_loss']:.3f})")
print(f"\nmax relative deviation of the boundaries: time {result['time_max_rel_dev']}, "
      f"size {result['size_max_rel_dev']}; wall {result['wall_s']:.0f} s")

# ---- figure: theory maps with the finite-size results on top ----
fig, axes = new_figure(1, 2, size=(6, 5))
big_time = rfdiff.phase_map_time(problem, np.logspace(np.log10(0.3), np.log10(12), nmap),
                                 np.logspace(0, 5, nmap))
plot_phase_time(axes[0, 0], big_time, annotate=False)
key = f"d={d_labels},seed=0"
overlay_confirmation(axes[0, 0], big_time, time_points, sims_time[key])
big_size = rfdiff.phase_map_size(problem, np.logspace(-1, 2, nmap),
                                 np.logspace(np.log10(0.4), np.log10(40), nmap), TAU_SIZE)
plot_phase_size(axes[0, 1], big_size, "label")
overlay_confirmation(axes[0, 1], big_size, size_points, sims_size[key])
fig.legend(handles=label_legend_handles(), loc="outside lower center", ncols=3,
           fontsize="x-small")
save(args, "phase_confirmation", fig, result)
