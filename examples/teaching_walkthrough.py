"""A walkthrough of generalisation and memorisation in the random-features diffusion model.

1. One model (ψ_p = 16, ψ_n = 4, t = 0.1): finite-size learning curves and their d → ∞ limit.
2. Its timescales: τ_gen (score error smallest) and τ_mem (memorisation), from the spectrum.
3. The phase diagram over (ψ_n, τ): the generalisation window widens linearly with n.

    python examples/teaching_walkthrough.py [--small] [--out DIR]
"""

import numpy as np

import rfdiff
from rfdiff.plot import label_legend_handles, new_figure, plot_curves, plot_phase_time
from _common import parse, save

args = parse(__doc__)
problem = rfdiff.Problem(16, 4, 0.1, "tanh")
print("Gaussian-equivalence constants:", problem.coefficients.as_dict())

tau = np.logspace(-1, 5, 25 if args.small else 121)
d = 20 if args.small else 100
sim = rfdiff.learning_curves(rfdiff.gradient_flow(rfdiff.finite_size_instance(problem, d)), tau)
theory = rfdiff.asymptotic_curves(problem, tau).curves
fig, axes = new_figure(1, 2, size=(6, 4.5))
plot_curves(axes[0, 0], theory, ("train_loss", "test_loss", "score_error"), label_suffix=" d→∞")
plot_curves(axes[0, 0], sim, ("train_loss", "test_loss", "score_error"), marker="o",
            linestyle="none", label_suffix=f" d={d}", alpha=0.5)
axes[0, 0].set_yscale("log")
axes[0, 0].set_title("1. learning curves: theory (lines) and simulation (points)")

ts = rfdiff.timescales(problem, np.logspace(-1, 6, 36 if args.small else 141))
print("2. tau_gen:", ts.tau_gen, " tau_mem:", ts.tau_mem)
for part in ts.parts:
    print(f"   {part['role']:>15}: lambda in [{part['lo']:.4g}, {part['hi']:.4g}], "
          f"tau in [{part['tau_fast']:.3g}, {part['tau_slow']:.3g}], "
          f"share of the final train-loss drop {part['train_drop_share']:.2f}")

pm = rfdiff.phase_map_time(problem, np.logspace(-0.3, 2.3, 6 if args.small else 28),
                           np.logspace(0, 6, 6 if args.small else 40))
plot_phase_time(axes[0, 1], pm)
axes[0, 1].set_title("3. phase diagram (ψp = 16)")
fig.legend(handles=label_legend_handles(), loc="outside lower center", ncols=3,
           fontsize="x-small")
save(args, "teaching_walkthrough", fig, {"timescales": {"tau_gen": ts.tau_gen,
                                                         "tau_mem": ts.tau_mem},
                                          "phase_map": pm.as_dict()})
