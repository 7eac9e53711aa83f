"""Double descent in the number of features with finitely many noise samples per point.

The end-of-training (τ = ∞) test loss and score error against ψ_p = p/d, ψ_n = 4, t = 0.1,
tanh, isotropic data, for m = 1, 4 and ∞ noise draws per training point at weight decay
λ = 1e-3 (solid) and 1e-2 (dashed). With m fixed draws the train matrix U has rank at most
min(p, nm), so the interpolation threshold moves from p = n towards p = nm; vertical guides
mark ψ_p = ψ_n and ψ_p = mψ_n. Points: finite-size flows (``monte_carlo`` with exactly m
draws per point, d = 100, seed 0) at λ = 1e-3. Prints the peak (argmax over ψ_p) and the
local extrema of every curve.

    python examples/noise_samples_double_descent.py [--small] [--out DIR]
"""

import math

import numpy as np

import rfdiff
from rfdiff.plot import new_figure
from _common import parse, save

args = parse(__doc__)
PSI_N, T = 4.0, 0.1
SAMPLES = (1, 4, math.inf)
RIDGES = (1e-3,) if args.small else (1e-3, 1e-2)
STYLE = {1e-3: "-", 1e-2: "--"}
COLOR = {1: "C0", 4: "C1", math.inf: "C2"}
psi_p = np.logspace(math.log10(0.25), math.log10(64.0), 8 if args.small else 60)
# finite-size markers: d = 20 in the small mode keeps it to seconds
D, FINITE_PSI_P = (20, (1.0, 4.0)) if args.small else (100, (1.0, 4.0, 16.0))
TAU = np.array([np.inf])


def model(m, lam, psi=1.0):
    return rfdiff.Problem(psi, PSI_N, T, "tanh", ridge=lam, noise_samples=m)


def extrema(x, y):
    """Interior local maxima and minima of a sampled curve, as (kind, x, y)."""
    s = np.sign(np.diff(y))
    out = []
    for k in range(1, s.size):
        if s[k - 1] > 0 > s[k]:
            out.append(("max", x[k], y[k]))
        elif s[k - 1] < 0 < s[k]:
            out.append(("min", x[k], y[k]))
    return out


def draw(ax, key, theory, finite, ylabel):
    """One panel: the theory curves, the finite-size points and the guides."""
    for (m, lam), c in theory.items():
        label = f"m={'∞' if m == math.inf else m}, λ={lam:g}"
        ax.plot(psi_p, c[key], STYLE[lam], color=COLOR[m], label=label)
    for (m, psi), v in finite.items():
        ax.plot(psi, v[key], "o", color=COLOR[m], markersize=5, markeredgecolor="k")
    ax.axvline(PSI_N, color="0.4", lw=0.8, ls=":")
    for m in SAMPLES:
        if m != math.inf and m * PSI_N != PSI_N:
            ax.axvline(m * PSI_N, color=COLOR[m], lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("ψ_p = p/d")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="x-small")
    return ax


theory, data = {}, {"psi_p": psi_p, "psi_n": PSI_N, "t": T, "curves": [], "finite": []}
for lam in RIDGES:
    for m in SAMPLES:
        c = rfdiff.core.batched_curves(model(m, lam), psi_p, np.full(psi_p.size, PSI_N), TAU)
        conv = np.asarray(c.converged)[:, 0]
        test, score = np.asarray(c.test_loss)[:, 0], np.asarray(c.score_error)[:, 0]
        theory[m, lam] = {"test_loss": test, "score_error": score}
        name = f"m={m:g} lambda={lam:g}"
        if not conv.all():
            print(f"{name}: NOT CONVERGED at psi_p=" + ", ".join(
                f"{psi_p[k]:.3g} (residual {np.asarray(c.residual)[k, 0]:.1e})"
                for k in np.flatnonzero(~conv)))
        k = int(np.argmax(test))
        print(f"{name}: test loss peak {test[k]:.4f} at psi_p={psi_p[k]:.3g}; extrema "
              + ", ".join(f"{kind} {y:.4f} at {x:.3g}" for kind, x, y in extrema(psi_p, test)))
        k = int(np.argmax(score))
        print(f"{name}: score error peak {score[k]:.4f} at psi_p={psi_p[k]:.3g}")
        data["curves"].append({"m": m, "ridge": lam, "test_loss": test, "score_error": score,
                               "converged": conv})

finite = {}
for m in SAMPLES[:2]:
    for psi in FINITE_PSI_P:
        inst = rfdiff.finite_size_instance(model(m, RIDGES[0], psi), D, seed=0,
                                           method="monte_carlo")
        c = rfdiff.learning_curves(rfdiff.gradient_flow(inst), TAU)
        finite[m, psi] = {k: float(np.asarray(getattr(c, k))[0])
                          for k in ("test_loss", "score_error")}
        print(f"finite size d={D} m={m} psi_p={psi:g} lambda={RIDGES[0]:g}: "
              f"test {finite[m, psi]['test_loss']:.4f}, score {finite[m, psi]['score_error']:.4f}")
        data["finite"].append({"m": m, "psi_p": psi, "d": D, "ridge": RIDGES[0],
                               **finite[m, psi]})

fig, axes = new_figure(1, 2, size=(5.5, 4.0))
draw(axes[0, 0], "test_loss", theory, finite, "L_test(τ = ∞)")
draw(axes[0, 1], "score_error", theory, finite, "E_score(τ = ∞)")
axes[0, 0].set_yscale("log")
axes[0, 1].set_yscale("log")
fig.suptitle(f"m noise samples per point: ψ_n={PSI_N:g}, t={T:g}, tanh; points: d={D}, "
             "seed 0; guides at ψ_p = ψ_n, mψ_n")
save(args, "noise_samples_double_descent", fig,
     {**data, "curves": [{k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in
                          c.items()} for c in data["curves"]], "psi_p": psi_p.tolist()})
