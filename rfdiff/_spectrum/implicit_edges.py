"""Edges of the spectral parts as differentiable functions of the parameters.

The edges are located by the spectrum pipeline (:func:`rfdiff.spectral_structure`: a support
scan, then the fold Newton of :mod:`.edges`), which has data-dependent control flow and
runs on the host through ``jax.pure_callback``: it works under ``jax.jit`` and, point by
point, under ``jax.vmap``. Derivatives come from the implicit-function theorem on the fold
system G(y; P) = (F_q, F_r, det ∂F/∂(q, r)) = 0 with y = (q, r, w), w = λ − s_t²:
dy = −(∂G/∂y)⁻¹ (∂G/∂P) dP, and dλ = dw + d(s_t²). No derivative passes through the scan.

Output order (fixed): :data:`EDGE_ROLES`. A role present in several bulks (split by the
atoms of ρ_Σ) has the lowest lower edge and the highest upper edge of its bulks; a role
merged with another shares that bulk's edges; an absent role has NaN edges (and zero
derivatives). A lower edge that touches the atom location (a bulk starting at s_t²) is that
location, not a fold, and is differentiated as such.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._theory import (
    SpectralParams,
    functional,
    require_noise_averaged,
    solve_offsets,
    spectral_bound,
)
from .axis import _EPS_REL
from .edges import _fold_newton, _fold_system
from .pipeline import spectral_structure

__all__ = ["EDGE_ROLES", "BulkEdges", "Edges", "bulk_edges_core", "edges"]

#: Roles of the bulks whose edges :func:`bulk_edges_core` returns, in this order.
EDGE_ROLES = ("d_component", "memorisation", "feature_only", "generalisation")

# kinds of an edge
_ABSENT, _FOLD, _PINNED = 0, 1, 2
_OFFSET = 1e-6   # gap-side start of the fold Newton, relative to the edge's scale


class BulkEdges(NamedTuple):
    """Edges of the bulks of U (a pytree of JAX arrays).

    Attributes:
        lo, hi: (4,) lower and upper edges in the order of :data:`EDGE_ROLES` (NaN: absent).
        converged: the pipeline converged and every present edge is a converged fold.
    """

    lo: jax.Array
    hi: jax.Array
    converged: jax.Array


def _role_names(role: str):
    return {r.split("(")[0] for r in role.split("+")}


def _host(*leaves):
    """Pipeline on the host: (q, r, w) at each edge (4, 2, 3), kinds (4, 2), converged.

    The callback may run in another thread, where the caller's (thread-local) 64-bit
    setting does not hold: it is enabled here for the pipeline, and the float64 result
    travels as pairs of uint32 words (JAX would otherwise canonicalise it to float32 in
    that thread); :func:`bulk_edges_core` casts the bits back."""
    with jax.enable_x64(True):
        y, kind, ok = _host_x64(*leaves)
    words = np.ascontiguousarray(y, np.float64).view(np.uint32).reshape(4, 2, 3, 2)
    return words, np.asarray(kind, np.int32), np.asarray(ok, np.bool_)


def _host_x64(psi_p, psi_n, A, b2, v2, s2, atoms, weights):
    P = SpectralParams(*(jnp.asarray(np.asarray(v, np.float64))
                         for v in (psi_p, psi_n, A, b2, v2, s2, atoms, weights)))
    try:
        st = spectral_structure(P)
    except ValueError:
        return np.full((4, 2, 3), np.nan), np.zeros((4, 2), np.int32), np.asarray(False)
    return _edge_points(P, st)


def _edge_points(P, st):
    """(q, r, w) at each edge of a computed structure (4, 2, 3), kinds (4, 2), converged."""
    y = np.full((4, 2, 3), np.nan)
    kind = np.zeros((4, 2), np.int32)
    ok = bool(st.converged)
    s2f = float(P.s2)
    base = float(P.v2) if np.isinf(float(P.psi_n)) else 0.0
    ub = float(spectral_bound(P))
    eps = _EPS_REL * ub
    for i, role in enumerate(EDGE_ROLES):
        bulks = [b for b in st.bulks if role in _role_names(b.role)]
        if not bulks:
            continue
        for j, (edge, side) in enumerate(((min(b.lo for b in bulks), -1.0),
                                          (max(b.hi for b in bulks), +1.0))):
            off = edge - s2f
            if j == 0 and abs(off - base) <= 1e-14 * ub:
                y[i, j] = (np.nan, np.nan, base)
                kind[i, j] = _PINNED
                continue
            delta = _OFFSET * (abs(off) + 1e-3 * ub)
            gap = np.array([off + side * delta])
            sol = solve_offsets(gap, eps, P).result
            y[i, j], found = _fold_point(P, gap[0], (sol.q[0], sol.r[0]), off, 2 * delta)
            ok &= found
            kind[i, j] = _FOLD
    return y, kind, np.asarray(ok)


def _fold_point(P, gap, x_gap, edge, width):
    """Fold Newton from the gap-side solution; (y, found) with found when the fold lies
    within ``width`` of the pipeline's edge."""
    y0 = np.tile([np.real(x_gap[0]), np.real(x_gap[1]), gap], (8, 1))  # one compiled shape
    y, last = _fold_newton(jnp.asarray(y0), P)
    y, last = np.asarray(y)[0], float(np.asarray(last)[0])
    found = bool(np.all(np.isfinite(y)) and abs(y[2] - edge) <= width
                 and last <= 1e-10 * abs(y[2]) + 1e-14 * width)
    return (y if found else np.array([np.nan, np.nan, edge])), found


@jax.custom_jvp
def _fold_root(y, fold, P):
    return y


def _fold_tangent(y, fold, P, dP):
    """dy = −G_y⁻¹ G_P dP at each fold point (masked entries: zero)."""
    # masked entries (absent or pinned): solve the identity with a zero right-hand side
    safe = jnp.where(fold[:, None], y, 1.0)

    def one(yk, mk):
        Gy = jax.jacfwd(_fold_system)(yk, P)
        _, dG = jax.jvp(lambda P: _fold_system(yk, P), (P,), (dP,))
        Gy = jnp.where(mk, Gy, jnp.eye(3))
        # the inverse depends on primal values only, so the map dP -> dy is a plain matrix
        # product (transposable for reverse mode)
        return -jnp.linalg.inv(Gy) @ jnp.where(mk, dG, 0.0)

    return jax.vmap(one)(safe, fold)


# compiled once: with concrete parameters the rule would otherwise run op by op (seconds)
_fold_tangent_jit = jax.jit(_fold_tangent)


@_fold_root.defjvp
def _fold_root_jvp(primals, tangents):
    y, fold, P = primals
    _, _, dP = tangents
    return y, _fold_tangent_jit(y, fold, P, dP)


def bulk_edges_core(P: SpectralParams, structure=None) -> BulkEdges:
    """Edges of the bulks of U at spectral parameters P (differentiable in P).

    Args:
        P: :class:`rfdiff.core.SpectralParams` (unbatched; vmap for a batch).
        structure: the :func:`rfdiff.spectral_structure` of the values of P, when already
            computed (then P must be concrete or a differentiation tracer of concrete
            values, not a jit tracer); None locates the edges through a host callback,
            which works under ``jax.jit`` and ``jax.vmap``.

    Returns:
        :class:`BulkEdges`.
    """
    require_noise_averaged(P, "bulk_edges_core")
    values = _primal(P)
    if structure is None and values is not None:
        # concrete values (possibly under jvp/grad): search on the host directly. The
        # callback below is only for jit/vmap tracing; calling JAX computations from inside
        # a callback can stall when XLA's CPU threads are all busy.
        structure = spectral_structure(SpectralParams(*(jnp.asarray(v) for v in values)))
    if structure is None:
        shapes = (jax.ShapeDtypeStruct((4, 2, 3, 2), jnp.uint32),
                  jax.ShapeDtypeStruct((4, 2), jnp.int32),
                  jax.ShapeDtypeStruct((), jnp.bool_))
        words, kind, ok = jax.pure_callback(_host, shapes, *_leaves(jax.lax.stop_gradient(P)),
                                            vmap_method="sequential")
        y = jax.lax.bitcast_convert_type(words, jnp.float64)
    else:
        if values is None:
            raise ValueError("structure= needs concrete parameters (not under jit or vmap)")
        with jax.enable_x64(True):
            y, kind, ok = _edge_points(SpectralParams(*(jnp.asarray(v) for v in values)),
                                       structure)
        y, kind, ok = jnp.asarray(y), jnp.asarray(kind), jnp.asarray(ok)
    flat_y = y.reshape(8, 3)
    fold = (kind == _FOLD).reshape(8)
    y_ift = _fold_root(jax.lax.stop_gradient(flat_y), fold, P)
    base = jnp.where(jnp.isinf(P.psi_n), P.v2, 0.0)
    w = jnp.where(kind.reshape(8) == _PINNED, base, y_ift[:, 2])
    lam = jnp.where(kind.reshape(8) == _ABSENT, jnp.nan, w + P.s2).reshape(4, 2)
    ok = ok & jnp.all(jnp.where(fold, jnp.isfinite(flat_y[:, 2]), True))
    return BulkEdges(lam[:, 0], lam[:, 1], ok)


def _leaves(P):
    """The eight fields of P of the m = ∞ model (``inv_m`` is None here)."""
    return tuple(P)[:8]


def _primal(P):
    """Concrete values of P (under jvp/grad tracing: the primal values), or None when a leaf
    is abstract (under jit or vmap)."""
    out = []
    for v in _leaves(P):
        while isinstance(v, jax.core.Tracer) and hasattr(v, "primal"):
            v = v.primal
        if isinstance(v, jax.core.Tracer):
            return None
        out.append(np.asarray(v))
    return out


class Edges(NamedTuple):
    """Edges of the spectral parts and the spectral timescales (a pytree of JAX arrays).

    Attributes:
        roles: :data:`EDGE_ROLES` (static, for reading ``lo`` and ``hi``).
        lo, hi: (4,) lower and upper edges of the bulks, in the order of ``roles``
            (NaN where a part is absent).
        atom: s_t², the location of the atom of U (when ψ_p > ψ_n + 1 or p > d).
        tau_gen: the spectral τ_gen = ψ_p/(Δ_t λ_lo(generalisation)).
        tau_mem: the spectral τ_mem = ψ_p/(Δ_t λ_lo(memorisation)), the paper's τ_mem.
        tau_mem_onset: ψ_p/(Δ_t λ_hi(memorisation)).
        converged: the spectrum pipeline converged and every edge is a converged fold.
    """

    lo: jax.Array
    hi: jax.Array
    atom: jax.Array
    tau_gen: jax.Array
    tau_mem: jax.Array
    tau_mem_onset: jax.Array
    converged: jax.Array

    @property
    def roles(self) -> tuple[str, ...]:
        """The order of ``lo`` and ``hi``: :data:`EDGE_ROLES`."""
        return EDGE_ROLES


# one compiled call (also under jvp/grad with concrete values), not op-by-op quadrature
_spectral_jit = jax.jit(functional.spectral)


def edges(p, structure=None) -> Edges:
    """Edges of each spectral part of U and the spectral τ_gen, τ_mem (differentiable).

    Works under ``jax.jit`` and ``jax.vmap`` (the edges are located on the host, one
    parameter point at a time) and under forward and reverse differentiation with respect
    to every leaf (implicit-function theorem on the fold conditions).

    Args:
        p: :class:`rfdiff.core.Params` (unbatched; vmap for a batch).
        structure: the :func:`rfdiff.spectral_structure` of ``p``'s problem, when already
            computed, to skip the host search (not under jit; forward and reverse
            derivatives still work).

    Returns:
        :class:`Edges`.
    """
    P = _spectral_jit(functional.check_params(p))
    e = bulk_edges_core(P, structure)
    delta = -jnp.expm1(-2.0 * p.t)
    scale = p.psi_p / delta
    gen, mem = EDGE_ROLES.index("generalisation"), EDGE_ROLES.index("memorisation")
    return Edges(e.lo, e.hi, P.s2, scale / e.lo[gen], scale / e.lo[mem], scale / e.hi[mem],
                 e.converged)
