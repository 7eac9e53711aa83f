"""Structure of the asymptotic spectrum of U: atoms, bulks, edges, masses, roles, measures.

The parts are found from the equations, not from a histogram:

1. Support scan. The equations are solved at λ + iε on a grid that is geometric in λ − s_t²
   (to resolve the parts just above s_t², which can be 10⁴ times narrower than the top
   bulk) merged with a uniform grid. A point lies in the support when Im q is much larger
   than ε |dq/dz|: outside the support Im q(λ + iε) = ε q'(λ) + O(ε³), inside Im q → πρ(λ)
   > 0. An atom's Lorentzian also gives Im q = ε|q'|, so atoms never look like bulks.
2. Edges. Each support interval is bracketed by grid points. The edge is a fold of the
   real equations: solving F(q, r; λ) = 0 together with det ∂F/∂(q, r) = 0 for
   (q, r, λ) by Newton, started from the real solution at the gap-side grid point, gives
   it to machine precision. A fold outside its bracket is rejected and the edge is then
   found by bisection of the support test (accuracy reported).
3. Masses and measures. Each bulk is integrated with Gauss–Legendre nodes in θ, with
   λ = lo + (hi − lo)(1 − cos θ)/2, which absorbs the square-root edges. The same nodes
   give the weighted measures ν_s (density Im s/π, mass 1) and ν_r (density Im r/π, mass
   κ, normalised by κ).
4. Atoms. The mass of the atom at s_t² is lim ε Im q(s_t² + iε) (analytically
   max(0, 1 − (1 + ψ_n)/ψ_p) when v_t > 0, 1 − 1/ψ_p for the linear activation).
   s and r stay finite at s_t², so ν_s and ν_r have no atom there.
5. Roles. Bulk masses are matched, in order along λ, to the predicted parts
   (:func:`rfdiff.predicted_masses`); consecutive predicted parts whose total matches one
   bulk are reported as merged (e.g. ``d_component+memorisation``). Bulks that match no
   grouping are labelled ``unidentified``.
6. Outlier. For non-odd σ (μ₀ ≠ 0) the rank-one μ₀² 11ᵀ adds one eigenvalue, mass 0 per
   p, near μ₀² p + (1/p) Tr U (leading order of a rank-one perturbation far above the
   bulk; an estimate, reported only when d is given).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from ._leading_order import ROLES, predicted_counts, predicted_masses
from ._problem import Problem
from ._resolvent import (_jacobian, _residual, _solve_points, _upper_bound, as_params,
                         _mean_eigenvalue)
from ._validation import positive_int
from ._x64 import float64

__all__ = [
    "SpectralPart",
    "SpectralStructure",
    "MeasureQuadrature",
    "spectral_structure",
    "measure_quadrature",
]

_EPS_REL = 1e-10          # final Im z of every solve, relative to the spectral scale
_SUPPORT_RATIO = 10.0     # Im q > ratio · ε|q'| marks the support (gap value: 1)
_ATOM_MIN = 1e-9          # smallest atom mass reported
_MASS_TOL = 1e-6          # total-mass check
_MATCH_ABS, _MATCH_REL = 1e-5, 1e-3   # tolerance when matching masses to predicted parts


@dataclasses.dataclass(frozen=True)
class SpectralPart:
    """One part of the spectrum of U.

    Attributes:
        kind: ``"atom"`` or ``"bulk"``.
        role: one of ``s2_atom``, ``d_component``, ``memorisation``, ``feature_only``,
            ``generalisation``, ``outlier``, a ``+``-joined merge of consecutive roles,
            or ``unidentified``.
        lo, hi: edges (equal for atoms).
        mass: fraction of the p eigenvalues (0 for the outlier).
        predicted_mass: the mass predicted from eigenvalue counts (None if unidentified).
        count: eigenvalues it holds at the dimension d of the structure (None if no d).
        edge_error: estimated absolute error of the edges.
    """

    kind: str
    role: str
    lo: float
    hi: float
    mass: float
    predicted_mass: float | None = None
    count: int | None = None
    edge_error: float = 0.0

    def as_dict(self) -> dict:
        """JSON-ready dict (keys kind, role, lo, hi, mass, predicted_mass, count)."""
        return {"kind": self.kind, "role": self.role, "lo": self.lo, "hi": self.hi,
                "mass": self.mass, "predicted_mass": self.predicted_mass,
                "count": self.count, "edge_error": self.edge_error}


@dataclasses.dataclass(frozen=True)
class SpectralStructure:
    """The parts of the spectrum, in increasing λ.

    Attributes:
        parts: tuple of :class:`SpectralPart`.
        d: dimension used for the counts (None if not given).
        total_mass: sum of the masses of all parts (1 up to quadrature error).
        converged: every solve converged, every edge was refined and the masses add to 1.
        notes: human-readable remarks (merged parts, fallbacks, unmatched masses).
    """

    parts: tuple[SpectralPart, ...]
    d: int | None
    total_mass: float
    converged: bool
    notes: tuple[str, ...] = ()

    @property
    def bulks(self) -> tuple[SpectralPart, ...]:
        """The bulk parts."""
        return tuple(p for p in self.parts if p.kind == "bulk")

    @property
    def atoms(self) -> tuple[SpectralPart, ...]:
        """The atoms (including the outlier)."""
        return tuple(p for p in self.parts if p.kind == "atom")

    def part(self, role: str) -> SpectralPart | None:
        """The part whose role is ``role`` or contains it in a merge (None if absent)."""
        for p in self.parts:
            if role == p.role or role in p.role.split("+"):
                return p
        return None

    def as_dicts(self) -> list[dict]:
        """The parts as JSON-ready dicts."""
        return [p.as_dict() for p in self.parts]


class MeasureQuadrature:
    """Quadrature of a normalised spectral measure (ν_q = ρ, ν_s or ν_r).

    ∫ f dν ≈ Σ weights · f(nodes) + Σ atom_masses · f(atom_locations).

    Attributes:
        which: ``"q"``, ``"s"`` or ``"r"``.
        nodes, weights: bulk nodes and weights (numpy arrays).
        part: index into ``structure.parts`` of the bulk holding each node.
        atom_locations, atom_masses: atoms of the measure.
        total: Σ weights + Σ atom_masses (1 up to quadrature error).
        converged: every node solve converged.
        structure: the :class:`SpectralStructure` used.
    """

    def __init__(self, which, nodes, weights, part, atom_locations, atom_masses, converged,
                 structure):
        self.which = which
        self.nodes = nodes
        self.weights = weights
        self.part = part
        self.atom_locations = atom_locations
        self.atom_masses = atom_masses
        self.total = float(np.sum(weights) + np.sum(atom_masses))
        self.converged = bool(converged)
        self.structure = structure

    def integrate(self, f) -> float:
        """∫ f dν for a vectorised function f."""
        val = np.sum(self.weights * f(self.nodes))
        if len(self.atom_locations):
            val += np.sum(self.atom_masses * f(self.atom_locations))
        return float(val)

    def __repr__(self):
        return (f"MeasureQuadrature(which={self.which!r}, nodes={self.nodes.size}, "
                f"atoms={len(self.atom_locations)}, total={self.total:.12g})")


# ----------------------------------------------------------------------------- scan

def _atom_location(P) -> float:
    # s_t² for U; the population limit (ψ_n = ∞) has its atom at s_t² + v_t²
    if math.isinf(float(P.psi_n)):
        return float(P.s2 + P.v2)
    return float(P.s2)


def _scan_grid(base, ub, points):
    """Grid over (base, base + ub]: geometric in λ − base (9 decades) and uniform."""
    n_log = points * 2 // 3
    off = np.concatenate([np.geomspace(1e-9 * ub, ub, n_log),
                          np.linspace(0.0, ub, points - n_log + 1)[1:]])
    return base + np.unique(off)


def _support(sol, eps):
    res = sol.result
    inside = res.q.imag > _SUPPORT_RATIO * eps * np.abs(sol.dqdz)
    return inside, res.converged


def _runs(flags):
    """(start, stop) index pairs of the runs of True in a boolean array."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    change = np.diff(padded)
    return list(zip(np.nonzero(change == 1)[0], np.nonzero(change == -1)[0] - 1))


# ----------------------------------------------------------------------------- edges

def _fold_system(y, P):
    """Real fold system: F(q, r; λ) = 0 and det ∂F/∂(q, r) = 0, unknowns (q, r, λ)."""
    x = y[:2].astype(jnp.complex128)
    z = y[2].astype(jnp.complex128)
    F = _residual(x, z, P)
    J = _jacobian(x, z, P)
    det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
    return jnp.real(jnp.stack([F[0], F[1], det]))


def _fold_newton_core(y0, P):
    jac = jax.jacfwd(_fold_system)

    def one(y):
        def body(_, y):
            step = jnp.linalg.solve(jac(y, P), _fold_system(y, P))
            ok = jnp.all(jnp.isfinite(step))
            return jnp.where(ok, y - step, y)
        y = jax.lax.fori_loop(0, 40, body, y)
        last = jnp.linalg.solve(jac(y, P), _fold_system(y, P))
        return y, jnp.abs(last[2])

    return jax.vmap(one)(y0)


_fold_newton = jax.jit(_fold_newton_core)


def _refine_edges(P, lam_gap, x_gap, lam_in, eps):
    """Edges between gap points and support points: fold Newton, bisection as fallback.

    Returns (edges, errors, refined) arrays.
    """
    m = lam_gap.size
    size = max(8, 1 << (m - 1).bit_length())  # bucket the shape to limit recompiles
    y0 = np.zeros((size, 3))
    y0[:m, 0] = x_gap[:, 0].real
    y0[:m, 1] = x_gap[:, 1].real
    y0[:m, 2] = lam_gap
    y0[m:] = y0[0]
    y, last = _fold_newton(jnp.asarray(y0), P)
    y, last = np.asarray(y)[:m], np.asarray(last)[:m]
    edge = y[:, 2]
    lo, hi = np.minimum(lam_gap, lam_in), np.maximum(lam_gap, lam_in)
    width = hi - lo
    ok = (np.isfinite(edge) & (edge >= lo - 1e-12 * np.abs(hi)) & (edge <= hi + 1e-12 * np.abs(hi))
          & (last <= 1e-9 * np.maximum(np.abs(edge), 1e-300) + 1e-13 * width))
    err = np.where(ok, np.maximum(last, 4 * np.finfo(float).eps * np.abs(edge)), np.nan)
    if not ok.all():
        bad = np.nonzero(~ok)[0]
        e_b, err_b = _bisect_edges(P, lam_gap[bad], lam_in[bad], eps)
        edge[bad], err[bad] = e_b, err_b
    return edge, err, ok


def _bisect_edges(P, lam_gap, lam_in, eps, iters=48):
    gap, sup = lam_gap.copy(), lam_in.copy()
    for _ in range(iters):
        mid = 0.5 * (gap + sup)
        sol = _solve_points(mid, eps, P)
        inside, _ = _support(sol, eps)
        sup = np.where(inside, mid, sup)
        gap = np.where(inside, gap, mid)
        if np.all(np.abs(sup - gap) <= 1e-12 * np.abs(sup)):
            break
    # below ~support-ratio·ε from the edge the test cannot decide: that is the error floor
    return 0.5 * (gap + sup), 0.5 * np.abs(sup - gap) + _SUPPORT_RATIO * eps


# ----------------------------------------------------------------------------- masses

@functools.lru_cache(maxsize=None)
def _theta_rule(nodes: int):
    x, w = np.polynomial.legendre.leggauss(nodes)
    theta = 0.5 * np.pi * (x + 1.0)
    return theta, 0.5 * np.pi * w


def _bulk_nodes(lo, hi, nodes):
    """Nodes and Jacobian weights of ∫_lo^hi f dλ with λ = lo + (hi − lo)(1 − cos θ)/2."""
    theta, w = _theta_rule(nodes)
    lam = lo + 0.5 * (hi - lo) * (1.0 - np.cos(theta))
    return lam, w * 0.5 * (hi - lo) * np.sin(theta)


def _integrate_bulks(P, bulks, nodes, eps):
    """Solve at the θ-nodes of every bulk; return per-node λ, weights, part index, sol."""
    lams, ws, idx = [], [], []
    for k, (lo, hi) in enumerate(bulks):
        lam, w = _bulk_nodes(lo, hi, nodes)
        lams.append(lam)
        ws.append(w)
        idx.append(np.full(nodes, k))
    if not lams:
        return np.zeros(0), np.zeros(0), np.zeros(0, int), None
    lam, w, idx = np.concatenate(lams), np.concatenate(ws), np.concatenate(idx)
    return lam, w, idx, _solve_points(lam, eps, P)


def _atom_mass(P, where, eps):
    sol = _solve_points(np.array([where]), np.array([eps]), P).result
    return eps * sol.q.imag[0], eps * sol.s.imag[0], eps * sol.r.imag[0], bool(sol.converged[0])


# ----------------------------------------------------------------------------- roles

def _compositions(k, m):
    """All ways to cut a sequence of k items into m consecutive non-empty groups."""
    if m == 1:
        yield [(0, k)]
        return
    for first in range(1, k - m + 2):
        for rest in _compositions(k - first, m - 1):
            yield [(0, first)] + [(a + first, b + first) for a, b in rest]


def _match_roles(masses, expected):
    """Group consecutive expected parts so that group masses match the bulk masses."""
    names = [n for n, v in expected if v > 1e-12]
    values = [v for n, v in expected if v > 1e-12]
    m = len(masses)
    if m == 0 or m > len(names):
        return None
    for cut in _compositions(len(names), m):
        sums = [sum(values[a:b]) for a, b in cut]
        if all(abs(s - mm) <= _MATCH_ABS + _MATCH_REL * s for s, mm in zip(sums, masses)):
            return [("+".join(names[a:b]), s, names[a:b]) for (a, b), s in zip(cut, sums)]
    return None


def _label(masses, problem, P):
    predicted = predicted_masses(problem if isinstance(problem, Problem) else P)
    order = [r for r in ROLES if r != "s2_atom"]
    labels = _match_roles(masses, [(r, predicted[r]) for r in order])
    note = None
    if labels is None:
        # the d-component can rise above ρ₁ (v_t² → 0 at large t): try that order too
        alt = ["memorisation", "d_component", "feature_only", "generalisation"]
        labels = _match_roles(masses, [(r, predicted[r]) for r in alt])
        if labels is not None:
            note = "the memorisation bulk lies below the d-component"
    return labels, note


# ----------------------------------------------------------------------------- public

@float64
def spectral_structure(problem, d: int | None = None, *, scan_points: int = 3072,
                       nodes_per_part: int = 96) -> SpectralStructure:
    """Atoms and bulks of the asymptotic spectrum of U, with roles, edges and masses.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        d: dimension at which eigenvalue counts (and the μ₀ outlier) are reported; needs a
            :class:`Problem`.
        scan_points: points of the support scan (bulks narrower than about 1 % of their
            distance to s_t² may be missed; the mass check then fails and says so).
        nodes_per_part: Gauss–Legendre nodes (in θ) per bulk for the masses.

    Returns:
        :class:`SpectralStructure` with parts in increasing λ.

    Raises:
        ValueError: for a bad problem, d without a :class:`Problem`, or bad sizes.
    """
    P = as_params(problem)
    scan_points = positive_int("scan_points", scan_points)
    nodes_per_part = positive_int("nodes_per_part", nodes_per_part)
    if d is not None:
        d = positive_int("d", d)
        if not isinstance(problem, Problem):
            raise ValueError(f"d needs a rfdiff.Problem (for p and n), got {problem!r}")
    if scan_points < 64:
        raise ValueError(f"scan_points must be >= 64, got {scan_points!r}")
    ub = float(_upper_bound(P))
    eps = _EPS_REL * ub
    base = _atom_location(P)
    notes: list[str] = []

    # 1. support scan
    grid = _scan_grid(base, ub, scan_points)
    sol = _solve_points(grid, eps, P)
    inside, conv = _support(sol, eps)
    ok = bool(conv.all())
    if not ok:
        notes.append(f"{int((~conv).sum())} of {grid.size} scan points did not converge")
    runs = _runs(inside & conv)

    # 2. edges: gap-side point → fold Newton
    x_all = np.stack([sol.result.q, sol.result.r], axis=1)
    gaps, ins, xs = [], [], []
    for a, b in runs:
        if a == 0:  # the bulk reaches the bottom of the scan: bracket with the atom point
            gaps.append(base), ins.append(grid[0]), xs.append(x_all[0])
        else:
            gaps.append(grid[a - 1]), ins.append(grid[a]), xs.append(x_all[a - 1])
        if b == grid.size - 1:
            notes.append("the support reaches the top of the scan (bound too low)")
            ok = False
            gaps.append(grid[b] * 1.01), ins.append(grid[b]), xs.append(x_all[b])
        else:
            gaps.append(grid[b + 1]), ins.append(grid[b]), xs.append(x_all[b + 1])
    bulks = []
    errors = []
    if runs:
        edge, err, refined = _refine_edges(P, np.array(gaps), np.array(xs), np.array(ins), eps)
        if not refined.all():
            notes.append(f"{int((~refined).sum())} edge(s) found by bisection, not by the "
                         "fold condition")
        bulks = [(edge[2 * k], edge[2 * k + 1]) for k in range(len(runs))]
        errors = [max(err[2 * k], err[2 * k + 1]) for k in range(len(runs))]

    # 3. masses
    lam_n, w_n, idx_n, sol_n = _integrate_bulks(P, bulks, nodes_per_part, eps)
    masses = []
    if sol_n is not None:
        dens = sol_n.result.density
        masses = [float(np.sum((w_n * dens)[idx_n == k])) for k in range(len(bulks))]
        if not sol_n.result.converged.all():
            ok = False
            notes.append("some quadrature nodes did not converge")

    # 4. atom at s_t² (or s_t² + v_t² in the population limit)
    m_atom, _, _, atom_conv = _atom_mass(P, base, eps)
    ok &= atom_conv

    # 5. roles and counts
    labels, note = _label(masses, problem, P)
    if note:
        notes.append(note)
    counts = predicted_counts(problem, d) if d is not None else None
    parts = []
    predicted = predicted_masses(problem if isinstance(problem, Problem) else P)
    if m_atom > _ATOM_MIN:
        parts.append(SpectralPart("atom", "s2_atom", base, base, float(m_atom),
                                  predicted["s2_atom"],
                                  counts["s2_atom"] if counts else None, 0.0))
    if labels is None and bulks:
        notes.append("bulk masses " + ", ".join(f"{m:.6g}" for m in masses)
                     + " match no grouping of the predicted parts "
                     + ", ".join(f"{k}={v:.6g}" for k, v in predicted.items()))
    for k, ((lo, hi), mass) in enumerate(zip(bulks, masses)):
        if labels is None:
            role, pm, count = "unidentified", None, None
        else:
            role, pm, members = labels[k]
            count = sum(counts[r] for r in members) if counts else None
            if len(members) > 1:
                notes.append(f"{' and '.join(members)} merged into one bulk "
                             f"[{lo:.6g}, {hi:.6g}]")
        parts.append(SpectralPart("bulk", role, float(lo), float(hi), mass, pm, count,
                                  float(errors[k])))

    # 6. outlier of the mean (non-odd σ)
    if isinstance(problem, Problem) and d is not None:
        mu0 = float(problem.coefficients.mu0)
        if abs(mu0) > 1e-8:
            p, _ = problem.sizes(d)
            loc = mu0**2 * p + float(_mean_eigenvalue(P))
            parts.append(SpectralPart("atom", "outlier", loc, loc, 0.0, 0.0, 1, float("nan")))
            notes.append("outlier location μ₀² p + (1/p) Tr U is a leading-order estimate")

    total = sum(p.mass for p in parts)
    if abs(total - 1.0) > _MASS_TOL:
        ok = False
        notes.append(f"masses add to {total:.9g}, not 1: a part may have been missed")
    parts.sort(key=lambda p: (p.lo, p.hi))
    return SpectralStructure(tuple(parts), d, float(total), bool(ok), tuple(notes))


@float64
def measure_quadrature(problem, which: str = "s", nodes_per_part: int = 96,
                       structure: SpectralStructure | None = None) -> MeasureQuadrature:
    """Quadrature nodes and weights of a normalised spectral measure, bulk by bulk.

    - ``which="q"``: the eigenvalue distribution ρ (density Im q/π, mass 1 with the atom
      at s_t²);
    - ``which="s"``: ν_s, density Im s/π, mass 1 (s = (1/p) Tr W̃W̃ᵀ(U − z)⁻¹ ~ −1/z);
    - ``which="r"``: ν_r, density Im r/π divided by κ (r ~ −κ/z).

    The train loss in the limit is L_train(τ) = 1 − b_t²ψ_p ∫ dν_s(λ)(1 − e^{−4Δ_tλτ/ψ_p})/λ.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        which: ``"q"``, ``"s"`` or ``"r"``.
        nodes_per_part: Gauss–Legendre nodes in θ per bulk.
        structure: a structure already computed for this problem (else computed here).

    Returns:
        :class:`MeasureQuadrature`.

    Raises:
        ValueError: for an unknown ``which`` or a bad ``problem``.
    """
    if which not in ("q", "s", "r"):
        raise ValueError(f"which must be 'q', 's' or 'r', got {which!r}")
    P = as_params(problem)
    nodes_per_part = positive_int("nodes_per_part", nodes_per_part)
    if structure is None:
        structure = spectral_structure(problem)
    eps = _EPS_REL * float(_upper_bound(P))
    bulk_index = [k for k, p in enumerate(structure.parts) if p.kind == "bulk"]
    bulks = [(structure.parts[k].lo, structure.parts[k].hi) for k in bulk_index]
    lam, w, idx, sol = _integrate_bulks(P, bulks, nodes_per_part, eps)
    norm = 1.0 if which != "r" else float(jnp.sum(P.weights * P.atoms))
    if sol is None:
        weights, conv = np.zeros(0), True
    else:
        values = {"q": sol.result.q, "s": sol.result.s, "r": sol.result.r}[which]
        weights = w * values.imag / np.pi / norm
        conv = sol.result.converged.all()
    locs, masses = [], []
    for p in structure.parts:
        if p.kind != "atom" or p.role == "outlier":
            continue
        mq, ms, mr, c = _atom_mass(P, p.lo, eps)
        conv &= c
        m = {"q": mq, "s": ms, "r": mr / norm}[which]
        if m > _ATOM_MIN:
            locs.append(p.lo)
            masses.append(m)
    part = np.asarray([bulk_index[i] for i in idx], dtype=int)
    return MeasureQuadrature(which, lam, weights, part, np.asarray(locs, float),
                             np.asarray(masses, float), conv, structure)
