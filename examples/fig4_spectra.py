"""The paper's Fig. 4, improved: the asymptotic spectrum of U with every part visible
(overview on a log axis, one panel per bulk) against the eigenvalues of an exact
finite-size U, for isotropic data and for ρ_Σ = ½δ(0.5) + ½δ(1.5).

    python examples/fig4_spectra.py [--small] [--out DIR]
"""

import numpy as np

import rfdiff
from _common import parse, save

args = parse(__doc__)
# the paper's setting ψp = 64, ψn = 8, t = 0.01; the small mode uses ψp = 8, ψn = 2
psi_p, psi_n, d = (8.0, 2.0, 20) if args.small else (64.0, 8.0, 40)
for name, spec in (("isotropic", rfdiff.tools.isotropic()), ("two_atom", rfdiff.tools.two_atom())):
    problem = rfdiff.Problem(psi_p, psi_n, 0.01, "tanh", spec)
    structure = rfdiff.spectral_structure(problem, d=d)
    inst = rfdiff.finite_size_instance(problem, d, seed=0, method="exact")
    eig = np.linalg.eigvalsh(inst.U)
    fig = rfdiff.plot.spectrum_figure(problem, structure, eigenvalues=eig)
    fig.suptitle(f"ψp={psi_p:g}, ψn={psi_n:g}, t=0.01, tanh, Σ: {spec.label()}, d={d}")
    w1 = rfdiff.core.wasserstein1(problem, eig)
    save(args, f"fig4_spectrum_{name}", fig,
         {"parts": structure.as_dicts(), "wasserstein1": w1, "d": d})
    for part in structure.parts:
        print(f"{name}: {part.kind:5s} {part.role:>26s} [{part.lo:.6g}, {part.hi:.6g}] "
              f"mass {part.mass:.6g} count {part.count}")
