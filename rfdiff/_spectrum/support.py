"""Support scan and bulk finding: where the spectrum of U lies, before its edges are refined.

1. Support scan. The equations are solved at λ + iε (ε = 1e-12 of the spectral scale) on
   a grid geometric in λ − s_t² (the parts just above s_t² can be 10⁴ times narrower than
   the top bulk) merged with a uniform grid. A point lies in the support when
   Im q > 3 ε |dq/dz| (see :mod:`.axis`). A bulk already present at the first scan point
   is bracketed by a finer geometric scan down to 1e-6 of that offset (or found to touch
   s_t²).
2. Necks. Every interior local minimum of the density is zoomed into (65-point grids, six
   levels, a factor 32 each). A gap found there splits the bulk if both its edges are
   confirmed as folds (:mod:`.edges`); otherwise the minimum is a neck (two parts
   touching, the density dipping towards 0) and becomes a panel boundary for the
   quadrature.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._theory import solve_offsets
from .axis import _support
from .edges import _Edge, _refine_edges

_ZOOM_POINTS, _ZOOM_LEVELS = 65, 6


def _scan_grid(base, ub, points):
    """Grid over (base, base + ub]: geometric in λ − base (9 decades) and uniform."""
    n_log = points * 2 // 3
    off = np.concatenate([np.geomspace(1e-9 * ub, ub, n_log),
                          np.linspace(0.0, ub, points - n_log + 1)[1:]])
    return base + np.unique(off)


def _runs(flags):
    """(start, stop) index pairs (inclusive) of the runs of True in a boolean array."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    change = np.diff(padded)
    return list(zip(np.nonzero(change == 1)[0], np.nonzero(change == -1)[0] - 1))


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
        sol = solve_offsets(lam.ravel(), eps, P)
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
    sol = solve_offsets(fine, eps, P)
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
