"""Real data against the Gaussian theory: scikit-learn's 8×8 digits (d = 64).

For each (ψ_p, ψ_n): the asymptotic theory with the digits' covariance spectrum, finite-size
runs on Gaussian data with that spectrum (the surrogate) and finite-size runs on the real
digits (several draws of W and of the training subset; held-out digits give the population
matrices). Compared: the spectrum of U, L_train / L_test, τ_gen and τ_mem.

Needs the ``data`` extra (scikit-learn). Full mode: two settings, four draws (a few
minutes on two cores); ``--small``: one setting, one draw.
"""

import numpy as np

import rfdiff
from _common import parse, save

T = 0.1


def setting(psi_p, psi_n, X, tau, draws):
    cmp = rfdiff.tools.real_data_comparison(rfdiff.Problem(psi_p, psi_n, T, "tanh"), X, tau,
                                            draws=draws, seed=0)
    theory = rfdiff.asymptotic_curves(cmp.problem, tau)
    out = {"psi_p": psi_p, "psi_n": psi_n, "t": T, "d": cmp.d, "p": cmp.p, "n": cmp.n,
           "held_out": cmp.held_out, "draws": draws,
           "population_error_U": float(np.mean(cmp.population_error)),
           "tau": tau.tolist()}
    curves = {"theory": theory}
    for which in ("real", "surrogate"):
        curves[which] = {k: cmp.mean(which, k) for k in ("train_loss", "test_loss")}
    for name, c in curves.items():
        out[name] = {k: np.asarray(getattr(c, k) if name == "theory" else c[k]).tolist()
                     for k in ("train_loss", "test_loss")}
    # timescales: per draw for the simulations (then the mean), once for the theory
    ts = {"theory": [rfdiff.curve_timescales(theory)],
          "real": [rfdiff.curve_timescales(c) for c in cmp.real],
          "surrogate": [rfdiff.curve_timescales(c) for c in cmp.surrogate]}
    for name, items in ts.items():
        out[name]["tau_gen"] = float(np.mean([x.tau_gen for x in items]))
        out[name]["tau_mem"] = float(np.mean([x.tau_mem for x in items]))
    for name in ("real", "surrogate"):
        e = (cmp.real_eigs if name == "real" else cmp.surrogate_eigs).ravel()
        out[name]["U_eig_quantiles"] = np.quantile(e, [0.1, 0.5, 0.9, 0.99]).tolist()
    for k in ("train_loss", "test_loss"):
        r, s, th = (np.asarray(out[n][k]) for n in ("real", "surrogate", "theory"))
        out[f"max_rel_dev_{k}"] = {"real_vs_surrogate": float(np.max(np.abs(r - s) / s)),
                                   "surrogate_vs_theory": float(np.max(np.abs(s - th) / th)),
                                   "real_vs_theory": float(np.max(np.abs(r - th) / th))}
    out["tau_mem_real_over_theory"] = out["real"]["tau_mem"] / out["theory"]["tau_mem"]
    return out, cmp


def figure(results, cmps):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(results), figsize=(5.5 * len(results), 8), squeeze=False)
    for j, (res, cmp) in enumerate(zip(results, cmps)):
        ax = axes[0, j]
        tau = np.asarray(res["tau"])
        for name, style in (("theory", "-"), ("surrogate", "--"), ("real", ":")):
            for k, color in (("train_loss", "C0"), ("test_loss", "C1")):
                ax.semilogx(tau, res[name][k], style, color=color, label=f"{name} {k}")
        ax.set_title(f"digits, ψp={res['psi_p']:g}, ψn={res['psi_n']:g}, t={T:g}")
        ax.set_xlabel("τ")
        ax.legend(fontsize=7)
        ax = axes[1, j]
        bins = np.logspace(-4, 2, 60)
        ax.hist(cmp.surrogate_eigs.ravel() + 1e-12, bins=bins, histtype="step",
                density=True, label="Gaussian surrogate")
        ax.hist(cmp.real_eigs.ravel() + 1e-12, bins=bins, histtype="step", density=True,
                label="real digits")
        ax.set_xscale("log")
        ax.set_xlabel("eigenvalue of U")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main():
    args = parse(__doc__.splitlines()[0])
    X = rfdiff.tools.digits()  # centred, κ = 1
    if args.small:
        settings, draws, tau = [(4.0, 2.0)], 1, np.logspace(-1, 5, 13)
    else:
        settings, draws, tau = [(8.0, 2.0), (16.0, 4.0)], 4, np.logspace(-1, 5, 31)
    results, cmps = [], []
    for psi_p, psi_n in settings:
        res, cmp = setting(psi_p, psi_n, X, tau, draws)
        results.append(res)
        cmps.append(cmp)
        print(f"ψp={psi_p:g} ψn={psi_n:g}: τ_mem real/theory = "
              f"{res['tau_mem_real_over_theory']:.3f}, max rel. dev. of L_test real vs "
              f"surrogate = {res['max_rel_dev_test_loss']['real_vs_surrogate']:.3f}")
    spectrum = rfdiff.DataSpectrum.from_data(X)
    ev = np.linalg.eigvalsh(np.cov(X.T, bias=True))
    data = {"settings": results, "spectrum_atoms": len(spectrum.atoms),
            "top_eigenvalues": np.sort(ev)[::-1][:8].tolist(),
            "compression_error_16_atoms": rfdiff.DataSpectrum.from_data(X, atoms=16)
            .compression_error(ev, t=T)}
    save(args, "real_data_digits", figure(results, cmps), data)


if __name__ == "__main__":
    main()
