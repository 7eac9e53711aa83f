"""Edges of the spectrum: folds of the real one-point equations, with bisection fallbacks.

An edge is a fold of the real equations: Newton on F(q, r; w) = 0, det ∂F/∂(q, r) = 0 for
(q, r, w), started from the real solution at the gap-side grid point, gives it to machine
precision (F is the residual of :mod:`rfdiff._theory.onepoint`; its two forms have the same
folds). A fold outside its bracket is rejected; 12 bisection steps then bring the gap-side
point closer and Newton is retried; as a last resort the edge is found by bisection of the
support test (reported in the notes, with an error of a few ε).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._theory import jacobian, residual, solve_offsets
from .axis import _SUPPORT_RATIO, _support


class _Edge(NamedTuple):
    gap: float           # λ of a point in the gap next to the edge
    x: np.ndarray        # (q, r) at that point
    inner: float         # λ of a point in the support next to the edge


def _fold_system(y, P):
    """Real fold system: F(q, r; w) = 0 and det ∂F/∂(q, r) = 0, unknowns y = (q, r, w)."""
    x = y[:2].astype(jnp.complex128)
    w = y[2].astype(jnp.complex128)
    F = residual(x, w, P)
    J = jacobian(x, w, P)
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
        sol = solve_offsets(mid, eps, P)
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
