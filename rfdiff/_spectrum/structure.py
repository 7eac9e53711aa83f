"""Structure of the asymptotic spectrum of U: atoms, bulks, edges, masses, roles, measures.

The parts are found from the equations, not from a histogram. Internally every λ is the
offset w = λ − s_t² (see rfdiff._resolvent): at large t whole parts sit within 1e-9 of
s_t², where absolute λ would keep only a few digits of their shape.

1. Support scan. The equations are solved at λ + iε (ε = 1e-12 of the spectral scale) on
   a grid geometric in λ − s_t² (the parts just above s_t² can be 10⁴ times narrower than
   the top bulk) merged with a uniform grid. A point lies in the support when
   Im q > 3 ε |dq/dz|: outside the support Im q(λ + iε) = ε q'(λ)(1 + O(ε²)), a ratio of 1,
   while inside Im q → πρ(λ) > 0. An atom's Lorentzian also has ratio 1, so atoms never
   look like bulks. A bulk already present at the first scan point is bracketed by a finer
   geometric scan down to 1e-6 of that offset (or found to touch s_t²).
2. Necks. Every interior local minimum of the density is zoomed into (65-point grids, six
   levels, a factor 32 each). A gap found there splits the bulk if both its edges are
   confirmed as folds; otherwise the minimum is a neck (two parts touching, the density
   dipping towards 0) and becomes a panel boundary for the quadrature.
3. Edges. An edge is a fold of the real equations: Newton on F(q, r; w) = 0,
   det ∂F/∂(q, r) = 0 for (q, r, w), started from the real solution at the gap-side grid
   point, gives it to machine precision. A fold outside its bracket is rejected; 12
   bisection steps then bring the gap-side point closer and Newton is retried; as a last
   resort the edge is found by bisection of the support test (reported in the notes, with
   an error of a few ε).
4. Masses and measures. Bulks are integrated on adaptive panels, each with Gauss–Legendre
   nodes in θ, λ = a + (b − a)(1 − cos θ)/2 (this absorbs square-root edges). A panel is
   split in two until an N-node and an N/2-node rule agree for ρ, ν_s and ν_r (mass and two
   moments). The nodes are solved at ε = min(1e-13 of the scale, 1e-12 of the bulk width),
   and the Lorentzian of the atom at s_t², known exactly, is subtracted from Im q.
5. Atoms. The mass of the atom at s_t² is lim ε Im q(s_t² + iε), taken at ε = 1e-14 of the
   scale (analytically max(0, 1 − (1 + ψ_n)/ψ_p) when v_t > 0, 1 − 1/ψ_p for the linear
   activation). s and r stay finite at s_t², so ν_s and ν_r have no atom there.
6. Roles. Bulk masses are matched, in order along λ, to the predicted parts
   (:func:`rfdiff.predicted_masses`): one bulk may hold several consecutive parts (reported
   merged, e.g. ``d_component+memorisation``) and one part may be split over several
   consecutive bulks (``fragment``). If that fails, ρ₁ below the d-component is tried, and
   then a split of the d-component and of ρ₂ by the atoms of ρ_Σ (pieces named e.g.
   ``generalisation(Σ=0.5)``), which is what happens for well-separated data eigenvalues.
   Bulks that match nothing are labelled ``unidentified`` and the notes say why.
7. Outlier. For non-odd σ (μ₀ ≠ 0) the rank-one μ₀² 11ᵀ adds one eigenvalue, of mass 0
   per p, near μ₀² p + (1/p) Tr U (first order for a rank-one perturbation far above the
   bulk; an estimate, reported only when d is given; at ψ_p = 8, d = 100, relu it is ~3 %
   below the exact top eigenvalue).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .leading_order import ROLES, predicted_counts, predicted_masses
from .._model.problem import Problem
from .._theory.resolvent import (_jacobian, _mean_eigenvalue, _residual, _solve_points, _upper_bound,
                         as_params)
from .._common.validation import positive, positive_int
from .._common.x64 import float64

__all__ = [
    "SpectralPart",
    "SpectralStructure",
    "MeasureQuadrature",
    "spectral_structure",
    "measure_quadrature",
    "spectral_cdf",
    "wasserstein1",
]

# Im z of the solves, relative to the spectral scale. Small values matter when parts sit
# very close to s_t² (at large t, v_t² ~ e^{−4t} puts ρ₁ within 1e-8 of the atom).
_EPS_REL = 1e-12          # support scan, zooms, edges
_EPS_NODES = 1e-13        # quadrature nodes (inside bulks: well conditioned), and at most
_EPS_WIDTH = 1e-12        # this fraction of the bulk width: the smoothing by ε removes
                          # ~(ε/width)·mass·O(10) from a bulk with steep square-root edges
_EPS_ATOM = 1e-14         # atom mass ε Im q(s_t² + iε): nearby bulks add O(ε²/δ²)
_SUPPORT_RATIO = 3.0      # Im q > ratio · ε|q'| marks the support (gap value: 1 + O(ε²))
_ATOM_MIN = 1e-9          # smallest atom mass reported
_MASS_TOL = 1e-7          # total-mass check
_MATCH_ABS, _MATCH_REL = 1e-6, 1e-4   # tolerance when matching masses to predicted parts
_ZOOM_POINTS, _ZOOM_LEVELS = 65, 6
_MAX_ROUNDS = 40


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
        count: eigenvalues it holds at the dimension d of the structure (None without d):
            the predicted count, or round(mass · p) for a fragment.
        edge_error: estimated absolute error of the edges (nan for the outlier estimate).
        necks: interior points where the density dips towards 0 (parts touching).
        fragment: ``(k, K)`` when one predicted part is split over K bulks (this is the
            k-th); its count then follows from its mass.
    """

    kind: str
    role: str
    lo: float
    hi: float
    mass: float
    predicted_mass: float | None = None
    count: int | None = None
    edge_error: float = 0.0
    necks: tuple[float, ...] = ()
    fragment: tuple[int, int] | None = None

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return {"kind": self.kind, "role": self.role, "lo": self.lo, "hi": self.hi,
                "mass": self.mass, "predicted_mass": self.predicted_mass,
                "count": self.count, "edge_error": self.edge_error,
                "necks": list(self.necks),
                "fragment": list(self.fragment) if self.fragment else None}


class _BulkQuadrature(NamedTuple):
    lam: np.ndarray
    weight: np.ndarray     # dλ weights
    part: np.ndarray       # index into SpectralStructure.parts
    rho: np.ndarray        # Im q/π (atom Lorentzian removed)
    nu_s: np.ndarray       # Im s/π
    nu_r: np.ndarray       # Im r/π (not divided by κ)
    converged: bool


@dataclasses.dataclass(frozen=True)
class SpectralStructure:
    """The parts of the spectrum, in increasing λ.

    Attributes:
        parts: tuple of :class:`SpectralPart`.
        d: dimension used for the counts (None if not given).
        total_mass: sum of the masses of all parts (1 up to quadrature error).
        converged: every solve converged, every edge was refined by the fold condition,
            the quadrature met its tolerance and the masses add up to 1.
        notes: human-readable remarks (merged parts, fallbacks, unmatched masses).
        kappa: κ = Tr Σ/d (normalisation of ν_r).
        quadrature: the bulk quadrature nodes with ρ, ν_s, ν_r densities, used by
            :func:`measure_quadrature` (not part of the comparison of structures).
    """

    parts: tuple[SpectralPart, ...]
    d: int | None
    total_mass: float
    converged: bool
    notes: tuple[str, ...] = ()
    kappa: float = 1.0
    quadrature: _BulkQuadrature | None = dataclasses.field(default=None, repr=False,
                                                           compare=False)

    @property
    def bulks(self) -> tuple[SpectralPart, ...]:
        """The bulk parts."""
        return tuple(p for p in self.parts if p.kind == "bulk")

    @property
    def atoms(self) -> tuple[SpectralPart, ...]:
        """The atoms (the outlier included)."""
        return tuple(p for p in self.parts if p.kind == "atom")

    @property
    def merged(self) -> bool:
        """True when some bulk holds several predicted parts."""
        return any("+" in p.role for p in self.parts)

    def part(self, role: str) -> SpectralPart | None:
        """The part whose role is ``role`` or contains it in a merge (None if absent)."""
        for p in self.parts:
            if role == p.role or role in p.role.split("+"):
                return p
        return None

    def as_dicts(self) -> list[dict]:
        """The parts as JSON-ready dicts."""
        return [p.as_dict() for p in self.parts]


@dataclasses.dataclass(frozen=True)
class MeasureQuadrature:
    """Quadrature of a normalised spectral measure (ρ, ν_s or ν_r).

    ∫ f dν ≈ Σ weights · f(nodes) + Σ atom_masses · f(atom_locations).

    Attributes:
        which: ``"q"``, ``"s"`` or ``"r"``.
        nodes, weights: bulk nodes and weights.
        part: index into ``structure.parts`` of the bulk holding each node.
        atom_locations, atom_masses: atoms of the measure.
        total: Σ weights + Σ atom_masses (1 up to quadrature error).
        converged: every solve converged and the quadrature met its tolerance.
        structure: the :class:`SpectralStructure` the nodes belong to.
    """

    which: str
    nodes: np.ndarray
    weights: np.ndarray
    part: np.ndarray
    atom_locations: np.ndarray
    atom_masses: np.ndarray
    total: float
    converged: bool
    structure: SpectralStructure = dataclasses.field(repr=False)

    def integrate(self, f):
        """∫ f dν for a vectorised function f of λ (a float, or complex if f is)."""
        val = np.sum(self.weights * f(self.nodes))
        if self.atom_locations.size:
            val = val + np.sum(self.atom_masses * f(self.atom_locations))
        return complex(val) if np.iscomplexobj(val) else float(val)

    def part_masses(self) -> np.ndarray:
        """Mass of the measure on each part of ``structure.parts`` (atoms included)."""
        out = np.zeros(len(self.structure.parts))
        np.add.at(out, self.part, self.weights)
        for loc, m in zip(self.atom_locations, self.atom_masses):
            for k, p in enumerate(self.structure.parts):
                if p.kind == "atom" and p.lo == loc:
                    out[k] += m
        return out


# ----------------------------------------------------------------------------- scan

def _atom_offset(P) -> float:
    # the atom of U is at s_t² (offset 0); the population limit (ψ_n = ∞) has it at
    # s_t² + v_t². Internally every λ is the offset w = λ − s_t² (see _resolvent._terms).
    if math.isinf(float(P.psi_n)):
        return float(P.v2)
    return 0.0


def _scan_grid(base, ub, points):
    """Grid over (base, base + ub]: geometric in λ − base (9 decades) and uniform."""
    n_log = points * 2 // 3
    off = np.concatenate([np.geomspace(1e-9 * ub, ub, n_log),
                          np.linspace(0.0, ub, points - n_log + 1)[1:]])
    return base + np.unique(off)


def _support(sol, eps):
    res = sol.result
    inside = res.q.imag > _SUPPORT_RATIO * eps * np.abs(sol.dqdz)
    return inside & res.converged, res.converged


def _runs(flags):
    """(start, stop) index pairs (inclusive) of the runs of True in a boolean array."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    change = np.diff(padded)
    return list(zip(np.nonzero(change == 1)[0], np.nonzero(change == -1)[0] - 1))


class _Edge(NamedTuple):
    gap: float           # λ of a point in the gap next to the edge
    x: np.ndarray        # (q, r) at that point
    inner: float         # λ of a point in the support next to the edge


class _Bulk(NamedTuple):
    lo: _Edge
    hi: _Edge
    necks: list


def _zoom(P, brackets, eps):
    """Zoom into density minima.

    Returns per bracket ``("gap", left_edge, right_edge)`` when the zoom finds gap points
    whose two edges are both confirmed as folds of the real equations, else
    ``("neck", location of the minimum)``. (A deep neck can fail the support test at
    finite ε; the fold check keeps it from being reported as a gap.)
    """
    m = len(brackets)
    a = np.array([b[0] for b in brackets], float)
    b = np.array([b[1] for b in brackets], float)
    result = [None] * m
    active = np.ones(m, bool)
    best = 0.5 * (a + b)
    for _ in range(_ZOOM_LEVELS):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        lam = np.linspace(a[idx], b[idx], _ZOOM_POINTS, axis=1)  # (k, points)
        sol = _solve_points(lam.ravel(), eps, P, shifted=True)
        inside, _ = _support(sol, eps)
        inside = inside.reshape(lam.shape)
        dens = sol.result.density.reshape(lam.shape)
        xs = np.stack([sol.result.q, sol.result.r], axis=1).reshape(lam.shape + (2,))
        candidates = []
        for row, k in enumerate(idx):
            out = np.nonzero(~inside[row])[0]
            if out.size and out[0] > 0 and out[-1] < _ZOOM_POINTS - 1:
                j1, j2 = out[0], out[-1]
                candidates.append((k, _Edge(lam[row, j1], xs[row, j1], lam[row, j1 - 1]),
                                   _Edge(lam[row, j2], xs[row, j2], lam[row, j2 + 1])))
            j = int(np.clip(np.argmin(dens[row]), 1, _ZOOM_POINTS - 2))
            best[k] = lam[row, j]
            a[k], b[k] = lam[row, j - 1], lam[row, j + 1]
        if candidates:
            edges = [e for c in candidates for e in c[1:]]
            loc, _, folded = _refine_edges(P, edges, eps, fallback=False)
            for j, (k, left, right) in enumerate(candidates):
                if folded[2 * j] and folded[2 * j + 1] and loc[2 * j] < loc[2 * j + 1]:
                    result[k] = ("gap", left, right)
                    active[k] = False
    for k in range(m):
        if result[k] is None:
            result[k] = ("neck", best[k])
    return result


def _interior_minima(dens, a, b):
    """Indices of strict local minima of dens inside the run [a, b]."""
    i = np.arange(a + 1, b)
    if i.size == 0:
        return []
    is_min = (dens[i] < dens[i - 1]) & (dens[i] <= dens[i + 1])
    return list(i[is_min])


def _bottom_edge(P, base, first, eps):
    """Bracket for a bulk already inside the support at the first scan point.

    A finer geometric scan between base + 1e-6 (first − base) and the first point looks
    for a gap; if there is none the bulk is taken to start at the atom location itself
    (returned as a degenerate bracket gap = inner = base).
    """
    fine = base + np.geomspace(1e-6 * (first - base), first - base, 65)[:-1]
    sol = _solve_points(fine, eps, P, shifted=True)
    inside, _ = _support(sol, eps)
    out = np.nonzero(~inside)[0]
    if out.size == 0:
        return _Edge(base, None, base)
    j = out[-1]
    inner = fine[j + 1] if j + 1 < fine.size else first
    return _Edge(fine[j], np.array([sol.result.q[j], sol.result.r[j]]), inner)


def _find_bulks(P, grid, sol, eps, notes, base):
    """Support intervals of the scan, split at hidden gaps, with necks and edge brackets."""
    inside, conv = _support(sol, eps)
    x_all = np.stack([sol.result.q, sol.result.r], axis=1)
    dens = sol.result.density
    bulks = []
    for a, b in _runs(inside):
        if a == 0:
            lo = _bottom_edge(P, base, grid[0], eps)
        else:
            lo = _Edge(grid[a - 1], x_all[a - 1], grid[a])
        if b == grid.size - 1:
            notes.append("the support reaches the top of the scan (bound too low)")
            hi = _Edge(grid[b] * 1.01, None, grid[b])
        else:
            hi = _Edge(grid[b + 1], x_all[b + 1], grid[b])
        minima = _interior_minima(dens, a, b)
        zoomed = _zoom(P, [(grid[i - 1], grid[i + 1]) for i in minima], eps) if minima else []
        necks = []
        cur_lo = lo
        for found in zoomed:
            if found[0] == "gap":
                bulks.append(_Bulk(cur_lo, found[1], necks))
                cur_lo, necks = found[2], []
            else:
                necks.append(found[1])
        bulks.append(_Bulk(cur_lo, hi, necks))
    return bulks


# ----------------------------------------------------------------------------- edges

def _fold_system(y, P):
    """Real fold system: F(q, r; w) = 0 and det ∂F/∂(q, r) = 0, unknowns y = (q, r, w)."""
    x = y[:2].astype(jnp.complex128)
    w = y[2].astype(jnp.complex128)
    F = _residual(x, w, P)
    J = _jacobian(x, w, P)
    det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
    return jnp.real(jnp.stack([F[0], F[1], det]))


def _det3(A):
    return (A[0, 0] * (A[1, 1] * A[2, 2] - A[1, 2] * A[2, 1])
            - A[0, 1] * (A[1, 0] * A[2, 2] - A[1, 2] * A[2, 0])
            + A[0, 2] * (A[1, 0] * A[2, 1] - A[1, 1] * A[2, 0]))


def _solve3(A, b):
    """3×3 solve by Cramer's rule (compiles faster than a pivoted LU)."""
    cols = [_det3(A.at[:, k].set(b)) for k in range(3)]
    return jnp.stack(cols) / _det3(A)


def _fold_newton_core(y0, P):
    jac = jax.jacfwd(_fold_system)

    def step(y):
        return _solve3(jac(y, P), _fold_system(y, P))

    def one(y):
        def body(_, y):
            dy = step(y)
            return jnp.where(jnp.all(jnp.isfinite(dy)), y - dy, y)
        y = jax.lax.fori_loop(0, 40, body, y)
        return y, jnp.abs(step(y)[2])

    return jax.vmap(one)(y0)


_fold_newton = jax.jit(_fold_newton_core)


def _fold_from(P, gap, x_gap, inner, eps):
    """Fold Newton from gap-side solutions; a result counts only inside [gap, inner]
    (widened by 10 ε: within a few ε of an edge the support test cannot tell sides)."""
    m = gap.size
    size = max(8, 1 << (m - 1).bit_length())  # bucket the shape to limit recompiles
    y0 = np.zeros((size, 3))
    y0[:m, 0] = np.real(x_gap[:, 0])
    y0[:m, 1] = np.real(x_gap[:, 1])
    y0[:m, 2] = gap
    y0[m:] = y0[0]
    y, last = _fold_newton(jnp.asarray(y0), P)
    edge = np.array(y)[:m, 2]
    last = np.array(last)[:m]
    lo, hi = np.minimum(gap, inner), np.maximum(gap, inner)
    slack = 1e-12 * np.abs(hi) + 10 * eps
    ok = (np.isfinite(edge) & (edge >= lo - slack) & (edge <= hi + slack)
          & (last <= 1e-10 * np.abs(edge) + 1e-14 * (hi - lo)))
    err = np.maximum(np.nan_to_num(last), 4 * np.finfo(float).eps * np.abs(edge))
    return edge, err, ok


def _bisect(P, gap, inner, x_gap, eps, iters, rel=0.0):
    """Bisection of the support test, keeping the solution at the gap-side end."""
    gap, inner, x_gap = gap.copy(), inner.copy(), x_gap.copy()
    for _ in range(iters):
        mid = 0.5 * (gap + inner)
        sol = _solve_points(mid, eps, P, shifted=True)
        inside, _ = _support(sol, eps)
        x_mid = np.stack([sol.result.q, sol.result.r], axis=1)
        inner = np.where(inside, mid, inner)
        gap = np.where(inside, gap, mid)
        x_gap = np.where(inside[:, None], x_gap, x_mid)
        if np.all(np.abs(inner - gap) <= rel * np.abs(inner)):
            break
    return gap, inner, x_gap


def _refine_edges(P, edges, eps, fallback=True):
    """Edges from their brackets.

    Fold Newton from the gap-side point; where it lands outside the bracket (it can reach
    the fold of a neighbouring edge when started far away), 12 bisection steps bring the
    gap-side point 4096 times closer and Newton is tried again. With ``fallback``, edges
    that still fail are found by bisection alone (accuracy: a few ε).

    Returns:
        (locations, absolute errors, found-by-fold flags).
    """
    gap = np.array([e.gap for e in edges], float)
    inner = np.array([e.inner for e in edges], float)
    x_gap = np.array([e.x if e.x is not None else (np.nan, np.nan) for e in edges], complex)
    edge, err, ok = _fold_from(P, gap, x_gap, inner, eps)
    touching = gap == inner  # a bulk that starts at the atom location (no bracket)
    edge[touching], err[touching], ok[touching] = gap[touching], 0.0, True
    if not ok.all():
        bad = np.nonzero(~ok)[0]
        g, s, xg = _bisect(P, gap[bad], inner[bad], x_gap[bad], eps, iters=12)
        e2, r2, ok2 = _fold_from(P, g, xg, s, eps)
        edge[bad] = np.where(ok2, e2, edge[bad])
        err[bad] = np.where(ok2, r2, err[bad])
        ok[bad] = ok2
        if fallback and not ok2.all():
            still = bad[~ok2]
            g, s, _ = _bisect(P, g[~ok2], s[~ok2], xg[~ok2], eps, iters=60, rel=1e-13)
            edge[still] = 0.5 * (g + s)
            # within a few ε of the edge the support test cannot decide: the error floor
            err[still] = 0.5 * np.abs(s - g) + _SUPPORT_RATIO * eps
    return edge, err, ok


# ----------------------------------------------------------------------------- masses

@functools.lru_cache(maxsize=None)
def _theta_rule(nodes: int):
    x, w = np.polynomial.legendre.leggauss(nodes)
    return 0.5 * np.pi * (x + 1.0), 0.5 * np.pi * w


def _panel_nodes(a, b, nodes):
    """Nodes and weights of ∫_a^b f dλ with λ = a + (b − a)(1 − cos θ)/2, θ ∈ [0, π]."""
    theta, w = _theta_rule(nodes)
    a, b = np.asarray(a, float)[:, None], np.asarray(b, float)[:, None]
    lam = a + 0.5 * (b - a) * (1.0 - np.cos(theta))
    return lam, w * 0.5 * (b - a) * np.sin(theta)


def _densities(sol, lam, eps, atom_loc, atom_mass):
    """Im q/π with the atom's Lorentzian removed, Im s/π, Im r/π at z = λ + iε."""
    res = sol.result
    lorentz = atom_mass * eps / (np.pi * ((lam - atom_loc) ** 2 + eps**2))
    return np.stack([res.q.imag / np.pi - lorentz, res.s.imag / np.pi, res.r.imag / np.pi])


def _node_eps(P, bulks):
    """Im z at the quadrature nodes of each bulk (see _EPS_WIDTH)."""
    ub = float(_upper_bound(P))
    return np.array([min(_EPS_NODES * ub, _EPS_WIDTH * (hi - lo)) for lo, hi in bulks])


def _adaptive_quadrature(P, panels, nodes, tol, eps_bulk, atom_loc, atom_mass, kappa):
    """Integrate ρ, ν_s, ν_r over panels (a, b, bulk index), splitting until converged.

    ``eps_bulk[k]`` is the Im z used at the nodes of bulk k.

    Returns (lam, weight, bulk index, densities (3, m), converged flag).
    """
    half = max(2, nodes // 2)
    active = list(panels)
    keep_lam, keep_w, keep_idx, keep_dens = [], [], [], []
    converged, all_conv = True, True
    for rnd in range(_MAX_ROUNDS):
        if not active:
            break
        a = np.array([p[0] for p in active])
        b = np.array([p[1] for p in active])
        lam_n, w_n = _panel_nodes(a, b, nodes)
        lam_h, w_h = _panel_nodes(a, b, half)
        lam = np.concatenate([lam_n.ravel(), lam_h.ravel()])
        eps_p = eps_bulk[np.array([p[2] for p in active])]
        eps = np.concatenate([np.repeat(eps_p, nodes), np.repeat(eps_p, half)])
        sol = _solve_points(lam, eps, P, shifted=True)
        all_conv &= bool(sol.result.converged.all())
        dens = _densities(sol, lam, eps, atom_loc, atom_mass)
        k = len(active)
        d_n = dens[:, : k * nodes].reshape(3, k, nodes)
        d_h = dens[:, k * nodes:].reshape(3, k, half)
        # compare the two rules on the masses and on two moments in x = (λ − a)/(b − a),
        # so that the shape of the density is resolved, not only its integral
        x_n = (lam_n - a[:, None]) / (b - a)[:, None]
        x_h = (lam_h - a[:, None]) / (b - a)[:, None]
        i_n = np.stack([np.sum(d_n * w_n * x_n**j, axis=-1) for j in range(3)])
        i_h = np.stack([np.sum(d_h * w_h * x_h**j, axis=-1) for j in range(3)])
        scale = np.array([1.0, 1.0, kappa])[None, :, None]
        err = np.max(np.abs(i_n - i_h) / scale, axis=(0, 1))
        size = np.max(np.abs(i_n[0]) / scale[0], axis=0)
        good = err <= tol * (1e-2 + size)
        last = rnd == _MAX_ROUNDS - 1
        nxt = []
        for j, p in enumerate(active):
            if good[j] or last:
                keep_lam.append(lam_n[j])
                keep_w.append(w_n[j])
                keep_idx.append(np.full(nodes, p[2]))
                keep_dens.append(d_n[:, j])
                converged &= bool(good[j])
            else:
                mid = 0.5 * (p[0] + p[1])
                nxt += [(p[0], mid, p[2]), (mid, p[1], p[2])]
        active = nxt
    if not keep_lam:
        return np.zeros(0), np.zeros(0), np.zeros(0, int), np.zeros((3, 0)), True
    return (np.concatenate(keep_lam), np.concatenate(keep_w), np.concatenate(keep_idx),
            np.concatenate(keep_dens, axis=1), converged and all_conv)


def _atom_weights(P, where, eps):
    """ε Im (q, s, r)(where + iε): the atom masses of ρ, ν_s, ν_r (ε → 0)."""
    sol = _solve_points(np.array([where]), np.array([eps]), P, shifted=True).result
    return (eps * sol.q.imag[0], eps * sol.s.imag[0], eps * sol.r.imag[0],
            bool(sol.converged[0]))


# ----------------------------------------------------------------------------- roles

class _Label(NamedTuple):
    role: str
    predicted_mass: float
    members: tuple[tuple[str, float], ...]   # (role, fraction of that role's eigenvalues)
    fragment: tuple[int, int] | None         # (k, K): k-th of K bulks sharing one role


def _close(value, target):
    return abs(value - target) <= _MATCH_ABS + _MATCH_REL * target


def _match_roles(masses, expected):
    """Match bulks (in λ order) to predicted parts (in their expected order).

    A bulk may hold several consecutive parts (merged), or several consecutive bulks may
    share one part (split, e.g. the generalisation bulk splits into one bulk per atom of
    ρ_Σ when those are far apart); masses must agree. Returns a list of :class:`_Label`
    per bulk, or None when no such matching exists.
    """
    names = [n for n, v in expected if v > 1e-12]
    values = [v for n, v in expected if v > 1e-12]
    nb, nr = len(masses), len(names)

    @functools.lru_cache(maxsize=None)
    def solve(i, j):
        if i == nb and j == nr:
            return ()
        if i == nb or j == nr:
            return None
        for j2 in range(j + 1, nr + 1):      # bulk i holds parts j .. j2-1
            if _close(masses[i], sum(values[j:j2])):
                rest = solve(i + 1, j2)
                if rest is not None:
                    return ((i, i + 1, j, j2),) + rest
        for i2 in range(i + 2, nb + 1):      # part j is split over bulks i .. i2-1
            if _close(sum(masses[i:i2]), values[j]):
                rest = solve(i2, j + 1)
                if rest is not None:
                    return ((i, i2, j, j + 1),) + rest
        return None

    blocks = solve(0, 0) if nb else None
    if blocks is None:
        return None
    labels = []
    for i, i2, j, j2 in blocks:
        members = tuple((n, 1.0) for n in names[j:j2])
        total = sum(values[j:j2])
        for k in range(i, i2):
            frag = (k - i + 1, i2 - i) if i2 - i > 1 else None
            labels.append(_Label("+".join(names[j:j2]), total, members, frag))
    return labels


def _assign_pieces(masses, pieces, limit=2):
    """Assign every piece (name, role, fraction, mass) to one bulk so that the masses
    add up; returns up to ``limit`` solutions (lists of bulk indices per piece)."""
    found = []
    left = list(masses)
    choice = [0] * len(pieces)

    def place(i):
        if len(found) >= limit:
            return
        if i == len(pieces):
            if all(abs(x) <= _MATCH_ABS + _MATCH_REL * m for x, m in zip(left, masses)):
                found.append(list(choice))
            return
        for b in range(len(masses)):
            if left[b] - pieces[i][3] >= -(_MATCH_ABS + _MATCH_REL * masses[b]):
                left[b] -= pieces[i][3]
                choice[i] = b
                place(i + 1)
                left[b] += pieces[i][3]

    place(0)
    return found


def _label_pieces(masses, predicted, spectrum_atoms, spectrum_weights):
    """Matching when bulks follow the atoms of ρ_Σ: the d-component and the generalisation
    bulk are split into one piece per atom (mass ∝ its weight) and pieces are assigned
    to bulks freely. Returns (labels, note) or (None, None)."""
    pieces = []
    for role in [r for r in ROLES if r != "s2_atom"]:
        mass = predicted[role]
        if mass <= 1e-12:
            continue
        if role in ("d_component", "generalisation") and len(spectrum_atoms) > 1:
            for a, w in zip(spectrum_atoms, spectrum_weights):
                if w > 0:
                    pieces.append((f"{role}(Σ={a:.4g})", role, w, mass * w))
        else:
            pieces.append((role, role, 1.0, mass))
    if len(pieces) > 9 or len(masses) > 9:
        return None, None
    solutions = _assign_pieces(masses, pieces)
    if not solutions:
        return None, None
    choice = solutions[0]
    labels = []
    for b in range(len(masses)):
        mine = [p for p, c in zip(pieces, choice) if c == b]
        labels.append(_Label("+".join(p[0] for p in mine), sum(p[3] for p in mine),
                             tuple((p[1], p[2]) for p in mine), None))
    note = ("the bulks follow the atoms of ρ_Σ: the d-component and generalisation parts "
            "are split by data eigenvalue")
    if len(solutions) > 1:
        note += " (the assignment of the pieces is not unique; the first one is shown)"
    return labels, note


def _label(masses, predicted, atoms=(), weights=()):
    order = [r for r in ROLES if r != "s2_atom"]
    labels = _match_roles(masses, [(r, predicted[r]) for r in order])
    if labels is not None:
        return labels, None
    # the d-component can rise above ρ₁ (v_t² → 0 at large t): try that order too
    alt = ["memorisation", "d_component", "feature_only", "generalisation"]
    labels = _match_roles(masses, [(r, predicted[r]) for r in alt])
    if labels is not None:
        return labels, "the memorisation bulk lies below the d-component"
    return _label_pieces(masses, predicted, atoms, weights)


# ----------------------------------------------------------------------------- public

@float64
def spectral_structure(problem, d: int | None = None, *, scan_points: int = 3072,
                       nodes_per_panel: int = 64, tol: float = 1e-10) -> SpectralStructure:
    """Atoms and bulks of the asymptotic spectrum of U, with roles, edges and masses.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        d: dimension at which eigenvalue counts (and the μ₀ outlier) are reported; needs
            a :class:`Problem`.
        scan_points: points of the support scan (≥ 64). A bulk narrower than the local grid
            spacing (about 1 % of its distance to s_t²) can be missed; the mass check then
            fails and says so.
        nodes_per_panel: Gauss–Legendre nodes (in θ) per quadrature panel.
        tol: relative tolerance of each panel integral (the panel's N- and N/2-node
            rules must agree to tol × (panel mass + 0.01)).

    Returns:
        :class:`SpectralStructure` with parts in increasing λ.

    Raises:
        ValueError: for a bad problem, d without a :class:`Problem`, or bad sizes.
    """
    P = as_params(problem)
    scan_points = positive_int("scan_points", scan_points)
    nodes_per_panel = positive_int("nodes_per_panel", nodes_per_panel)
    tol = positive("tol", tol)
    if scan_points < 64:
        raise ValueError(f"scan_points must be >= 64, got {scan_points!r}")
    if nodes_per_panel < 4:
        raise ValueError(f"nodes_per_panel must be >= 4, got {nodes_per_panel!r}")
    if d is not None:
        d = positive_int("d", d)
        if not isinstance(problem, Problem):
            raise ValueError(f"d needs a rfdiff.Problem (for p and n), got {problem!r}")
    ub = float(_upper_bound(P))
    eps = _EPS_REL * ub
    base = _atom_offset(P)
    s2 = float(P.s2)
    kappa = float(jnp.sum(P.weights * P.atoms))
    notes: list[str] = []

    # 1.-2. support scan, hidden gaps and necks
    grid = _scan_grid(base, ub, scan_points)
    sol = _solve_points(grid, eps, P, shifted=True)
    ok = bool(sol.result.converged.all())
    if not ok:
        notes.append(f"{int((~sol.result.converged).sum())} of {grid.size} scan points did "
                     "not converge")
    found = _find_bulks(P, grid, sol, eps, notes, base)

    # 3. edges
    bulks, errors = [], []
    if found:
        edges = [e for b in found for e in (b.lo, b.hi)]
        loc, err, refined = _refine_edges(P, edges, eps)
        if not refined.all():
            ok = False
            notes.append(f"{int((~refined).sum())} edge(s) found by bisection of the support "
                         "test, not by the fold condition")
        bulks = [(loc[2 * k], loc[2 * k + 1]) for k in range(len(found))]
        errors = [max(err[2 * k], err[2 * k + 1]) for k in range(len(found))]
        if bulks[0][0] == base:
            notes.append("the lowest bulk reaches the atom location s_t² (ψ_p ≈ ψ_n + 1?): "
                         "its lower edge is s_t² and the atom mass there is uncertain")

    # 5. atom (needed before the quadrature: its Lorentzian is subtracted)
    m_atom, _, _, atom_conv = _atom_weights(P, base, _EPS_ATOM * ub)
    ok &= atom_conv
    has_atom = m_atom > _ATOM_MIN
    m_atom = m_atom if has_atom else 0.0

    # 4. masses
    panels = []
    for k, ((lo, hi), b) in enumerate(zip(bulks, found)):
        cuts = [lo] + sorted(n for n in b.necks if lo < n < hi) + [hi]
        panels += [(cuts[i], cuts[i + 1], k) for i in range(len(cuts) - 1)]
    eps_nodes = _node_eps(P, bulks)
    lam_n, w_n, idx_n, dens_n, quad_ok = _adaptive_quadrature(
        P, panels, nodes_per_panel, tol, eps_nodes, base, m_atom, kappa)
    if not quad_ok:
        ok = False
        notes.append("the bulk quadrature did not reach its tolerance (or a node did not "
                     "converge)")
    masses = [float(np.sum((w_n * dens_n[0])[idx_n == k])) for k in range(len(bulks))]

    # 6. roles and counts
    predicted = predicted_masses(problem)
    labels, note = _label(masses, predicted, tuple(np.asarray(P.atoms)),
                          tuple(np.asarray(P.weights)))
    if note:
        notes.append(note)
    if labels is None and bulks:
        notes.append("bulk masses " + ", ".join(f"{m:.6g}" for m in masses)
                     + " match no grouping of the predicted parts ("
                     + ", ".join(f"{k}={v:.6g}" for k, v in predicted.items()) + ")")
    counts = predicted_counts(problem, d) if d is not None else None
    parts: list[SpectralPart] = []
    if has_atom:
        parts.append(SpectralPart("atom", "s2_atom", s2 + base, s2 + base, float(m_atom),
                                  predicted["s2_atom"],
                                  counts["s2_atom"] if counts else None, 0.0))
    bulk_part = []
    p_d = problem.sizes(d)[0] if counts else None
    for k, ((lo, hi), mass) in enumerate(zip(bulks, masses)):
        necks = tuple(float(n) for n in found[k].necks if lo < n < hi)
        if labels is None:
            role, pm, count, frag = "unidentified", None, None, None
        else:
            lab = labels[k]
            role, frag = lab.role, lab.fragment
            if frag is None:
                pm = lab.predicted_mass
                count = (int(round(sum(counts[r] * f for r, f in lab.members)))
                         if counts else None)
            else:
                # a split part: no separate prediction; the count follows from the mass
                pm = None
                count = int(round(mass * p_d)) if counts else None
                if frag[0] == 1:
                    notes.append(f"{role} is split into {frag[1]} bulks")
            if len(lab.members) > 1 and (frag is None or frag[0] == 1):
                notes.append(f"{' and '.join(lab.role.split('+'))} are merged into one bulk "
                             f"[{s2 + lo:.6g}, {s2 + hi:.6g}]")
        bulk_part.append(len(parts))
        parts.append(SpectralPart("bulk", role, s2 + float(lo), s2 + float(hi), mass, pm,
                                  count, float(errors[k]), tuple(s2 + n for n in necks),
                                  frag))

    # 7. outlier of the mean (non-odd σ)
    if isinstance(problem, Problem) and d is not None:
        mu0 = float(problem.coefficients.mu0)
        if abs(mu0) > 1e-8:
            p, _ = problem.sizes(d)
            loc = mu0**2 * p + float(_mean_eigenvalue(P))
            parts.append(SpectralPart("atom", "outlier", loc, loc, 0.0, 0.0, 1, float("nan")))
            notes.append("the outlier location μ₀² p + (1/p) Tr U is a first-order estimate")

    total = float(sum(p.mass for p in parts))
    if abs(total - 1.0) > _MASS_TOL:
        ok = False
        notes.append(f"masses add to {total:.10g}, not 1: a part may have been missed")
    # parts are already in increasing λ (atom at the bottom, outlier at the top)
    quad = _BulkQuadrature(s2 + lam_n, w_n, np.asarray([bulk_part[i] for i in idx_n], int),
                           dens_n[0], dens_n[1], dens_n[2], quad_ok)
    return SpectralStructure(tuple(parts), d, total, bool(ok), tuple(notes), kappa, quad)


@float64
def measure_quadrature(problem, which: str = "s", structure: SpectralStructure | None = None,
                       **structure_options) -> MeasureQuadrature:
    """Quadrature nodes and weights of a normalised spectral measure, bulk by bulk.

    - ``which="q"``: the eigenvalue distribution ρ (density Im q/π; mass 1 with the atom
      at s_t²);
    - ``which="s"``: ν_s, density Im s/π, mass 1 (s = (1/p) Tr W̃W̃ᵀ(U − z)⁻¹ ~ −1/z);
    - ``which="r"``: ν_r, density Im r/π divided by κ (r ~ −κ/z).

    In the limit, L_train(τ) = 1 − b_t²ψ_p ∫ dν_s(λ)(1 − e^{−4Δ_tλτ/ψ_p})/λ.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        which: ``"q"``, ``"s"`` or ``"r"``.
        structure: the structure already computed for this problem (else computed here).
        **structure_options: passed to :func:`spectral_structure` (``nodes_per_panel``,
            ``tol``, ``scan_points``).

    Returns:
        :class:`MeasureQuadrature`.

    Raises:
        ValueError: for an unknown ``which`` or a bad ``problem``.
    """
    if which not in ("q", "s", "r"):
        raise ValueError(f"which must be 'q', 's' or 'r', got {which!r}")
    P = as_params(problem)
    if structure is None:
        structure = spectral_structure(problem, **structure_options)
    elif not isinstance(structure, SpectralStructure) or structure.quadrature is None:
        raise ValueError(f"structure must be a SpectralStructure, got {structure!r}")
    quad = structure.quadrature
    kappa = structure.kappa
    dens = {"q": quad.rho, "s": quad.nu_s, "r": quad.nu_r / kappa}[which]
    weights = quad.weight * dens
    eps = _EPS_ATOM * float(_upper_bound(P))
    locs, masses = [], []
    conv = bool(quad.converged)
    for p in structure.parts:
        if p.kind != "atom" or p.role == "outlier":
            continue
        mq, ms, mr, c = _atom_weights(P, p.lo - float(P.s2), eps)
        conv &= c
        m = {"q": mq, "s": ms, "r": mr / kappa}[which]
        if m > _ATOM_MIN:
            locs.append(p.lo)
            masses.append(m)
    locs, masses = np.asarray(locs, float), np.asarray(masses, float)
    total = float(np.sum(weights) + np.sum(masses))
    return MeasureQuadrature(which, quad.lam.copy(), weights, quad.part.copy(), locs, masses,
                             total, conv, structure)


# ----------------------------------------------------------------------------- distributions

_CDF_POINTS = 2049


@float64
def spectral_cdf(problem, lam, structure: SpectralStructure | None = None) -> np.ndarray:
    """Cumulative eigenvalue distribution F(λ) = fraction of the p eigenvalues ≤ λ.

    Atoms jump by their mass (the μ₀ outlier, of mass 0, is ignored). Within each bulk the
    density is integrated in θ, λ = lo + (hi − lo)(1 − cos θ)/2, on 2049 points with the
    trapezoidal rule, rescaled to the bulk's mass (error ~1e-7 of the mass).

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        lam: real λ values (scalar or array of any shape); ±∞ allowed, NaN not.
        structure: the :class:`SpectralStructure` of this problem (else computed here
            with :func:`spectral_structure`); it is not checked against ``problem``.

    Returns:
        F(λ), a float64 numpy array of the shape of ``lam``, non-decreasing in λ, from 0
        below the spectrum to the total mass (1 up to quadrature error) above it.

    Raises:
        ValueError: if ``problem`` is neither a :class:`Problem` nor valid
            :class:`ResolventParams`, ``structure`` is not a :class:`SpectralStructure`
            or ``lam`` contains NaN, naming the argument and the value.
    """
    P = as_params(problem)
    if structure is not None and not isinstance(structure, SpectralStructure):
        raise ValueError(f"structure must be a rfdiff.SpectralStructure, got {structure!r}")
    lam = np.asarray(lam, dtype=float)
    if np.any(np.isnan(lam)):
        raise ValueError(f"lam must not contain NaN, got {lam!r}")
    if structure is None:
        structure = spectral_structure(problem)
    out = np.zeros(lam.shape)
    for grid, cum in _bulk_cdfs(P, structure):
        out += np.interp(lam, grid, cum, left=0.0, right=cum[-1])
    for p in structure.atoms:
        if p.role != "outlier":
            out += np.where(lam >= p.lo, p.mass, 0.0)
    return out


def _bulk_cdfs(P, structure):
    """Per bulk: (λ grid, cumulative mass) on a θ-uniform grid."""
    theta = np.linspace(0.0, np.pi, _CDF_POINTS)
    bulks = structure.bulks
    if not bulks:
        return []
    s2 = float(P.s2)
    lams = [(b.lo - s2) + 0.5 * (b.hi - b.lo) * (1 - np.cos(theta)) for b in bulks]
    eps = np.repeat(_node_eps(P, [(b.lo, b.hi) for b in bulks]), _CDF_POINTS)
    sol = _solve_points(np.concatenate(lams), eps, P, shifted=True)
    atom = [p for p in structure.atoms if p.role != "outlier"]
    a_loc, a_mass = (atom[0].lo - s2, atom[0].mass) if atom else (0.0, 0.0)
    dens = _densities(sol, np.concatenate(lams), eps, a_loc, a_mass)[0]
    out = []
    for k, b in enumerate(bulks):
        rho = dens[k * _CDF_POINTS:(k + 1) * _CDF_POINTS]
        g = rho * 0.5 * (b.hi - b.lo) * np.sin(theta)
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(theta))])
        cum *= b.mass / cum[-1] if cum[-1] > 0 else 0.0
        out.append((s2 + lams[k], cum))
    return out


@float64
def wasserstein1(problem, eigenvalues, structure: SpectralStructure | None = None) -> float:
    """Wasserstein-1 distance between the asymptotic and an empirical spectrum of U.

    W₁ = ∫ ``|F(λ) − F_emp(λ)|`` dλ with F from :func:`spectral_cdf` and F_emp the empirical
    distribution of ``eigenvalues``. For non-odd σ (μ₀ ≠ 0, known from a :class:`Problem`)
    the largest eigenvalue, the μ₀ outlier, is left out: it has mass 0 per p but sits at
    ~μ₀² p, so it would add ~μ₀² to W₁ at every d.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        eigenvalues: eigenvalues of a finite-size U (1-D).
        structure: the structure of this problem (else computed here, without d).

    Returns:
        W₁ (a float).

    Raises:
        ValueError: for an empty or non-finite ``eigenvalues``.
    """
    ev = np.sort(np.asarray(eigenvalues, dtype=float).ravel())
    if ev.size == 0 or not np.all(np.isfinite(ev)):
        raise ValueError(f"eigenvalues must be a non-empty finite array, got {eigenvalues!r}")
    if structure is None:
        structure = spectral_structure(problem)
    if isinstance(problem, Problem) and abs(float(problem.coefficients.mu0)) > 1e-8:
        ev = ev[:-1]
    P = as_params(problem)
    cdfs = _bulk_cdfs(P, structure)
    lo = min([ev[0]] + [p.lo for p in structure.parts if p.role != "outlier"])
    hi = max([ev[-1]] + [p.hi for p in structure.parts if p.role != "outlier"])
    pts = [ev, np.linspace(lo, hi, 20001)] + [g for g, _ in cdfs]
    x = np.unique(np.concatenate(pts))
    f_th = np.zeros(x.shape)
    for grid, cum in cdfs:
        f_th += np.interp(x, grid, cum, left=0.0, right=cum[-1])
    for p in structure.atoms:
        if p.role != "outlier":
            f_th += np.where(x >= p.lo, p.mass, 0.0)
    f_emp = np.searchsorted(ev, x, side="right") / ev.size
    # F_emp is constant on each [x_i, x_{i+1}) (eigenvalues are grid points); F is
    # continuous between atoms: trapezoid of |F − F_emp(x_i)|
    diff_l = np.abs(f_th[:-1] - f_emp[:-1])
    diff_r = np.abs(f_th[1:] - f_emp[:-1])
    return float(np.sum(0.5 * (diff_l + diff_r) * np.diff(x)))
