"""Extrapolation in the dimension: a weighted least-squares fit of y(d) = a + b/d (+ c/d²).

Finite-size quantities differ from their d → ∞ limit by a series in 1/d; fitting the first
terms over a ladder of d and reading off a turns "agrees to O(1/d)" into a sharp test of
the limit.

Weights and uncertainty. Each value comes with the standard error of its seed mean σ_d;
the fit weighs by 1/σ_d² and the uncertainty of a is √Cov[a, a] with
Cov = (Xᵀ W X)⁻¹ · max(1, χ²/dof): when the model does not describe the data to within
their scatter (χ²/dof > 1), the error is inflated by the misfit (the Birge ratio) rather
than understated. Without a scatter (one seed) the fit is unweighted and the noise level is
estimated from the residuals; with no residual degree of freedom the uncertainty is
``nan`` (two sizes fix a and b exactly and say nothing of the error).

The c/d² term is used only when the data support it: at least four sizes (so that the
quadratic fit keeps a residual degree of freedom) and a fitted c at least
:data:`SIGNIFICANCE` of its own standard errors away from zero. Otherwise a + b/d is kept;
the decision is made per quantity (per τ) and reported.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Extrapolation", "extrapolate", "SIGNIFICANCE"]

#: |c| / σ_c above which the c/d² term is kept (about 95 % two-sided for Gaussian errors)
SIGNIFICANCE = 2.0


class Extrapolation(NamedTuple):
    """The d → ∞ extrapolation of one or several quantities.

    Attributes:
        value: the fitted a (the extrapolated value), shape ``(k,)``.
        uncertainty: its standard error, ``(k,)`` (``nan`` when it cannot be estimated).
        order: highest power of 1/d kept, ``(k,)`` ints (1: a + b/d, 2: a + b/d + c/d²).
        coefficients: ``(k, 3)``: a, b, c (c = 0 when not fitted).
        chi2_dof: χ² per degree of freedom of the kept fit (``nan`` without a degree of
            freedom or without a scatter).
    """

    value: np.ndarray
    uncertainty: np.ndarray
    order: np.ndarray
    coefficients: np.ndarray
    chi2_dof: np.ndarray


def _wls(x, y, sigma, order):
    """a, b[, c], the covariance and χ²/dof of one weighted fit in x = 1/d."""
    X = np.vander(x, order + 1, increasing=True)
    w = np.ones_like(y) if sigma is None else 1.0 / sigma**2
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    resid = (y - X @ coef) * sw
    dof = y.size - (order + 1)
    cov = np.linalg.inv((X * w[:, None]).T @ X)
    chi2 = float(resid @ resid) / dof if dof > 0 else np.nan
    if sigma is None:
        # no scatter: the residuals are the only estimate of the noise
        cov = cov * chi2 if dof > 0 else np.full_like(cov, np.nan)
        chi2 = np.nan
    elif dof > 0:
        cov = cov * max(1.0, chi2)
    return coef, cov, chi2


def _one(x, y, sigma, max_order):
    coef, cov, chi2 = _wls(x, y, sigma, 1)
    order = 1
    if max_order >= 2 and x.size >= 4:
        c2, cov2, chi22 = _wls(x, y, sigma, 2)
        sc = np.sqrt(cov2[2, 2])
        if np.isfinite(sc) and abs(c2[2]) > SIGNIFICANCE * sc:
            coef, cov, chi2, order = c2, cov2, chi22, 2
    full = np.zeros(3)
    full[:coef.size] = coef
    return full, float(np.sqrt(cov[0, 0])), order, chi2


def _check(d, y, sigma, max_order):
    d = np.asarray(d, dtype=float)
    if d.ndim != 1 or d.size < 2 or not np.all(np.isfinite(d)) or np.any(d <= 0) \
            or np.unique(d).size != d.size:
        raise ValueError(f"d must be at least two distinct positive sizes, got {d.tolist()!r}")
    y = np.asarray(y, dtype=float)
    y2 = y.reshape(d.size, -1) if y.ndim >= 1 and y.shape[0] == d.size else None
    if y2 is None:
        raise ValueError(f"y must have one row per size ({d.size}), got shape {y.shape}")
    s2 = None
    if sigma is not None:
        s2 = np.asarray(sigma, dtype=float)
        if s2.shape != y.shape or np.any(s2 < 0) or np.any(np.isnan(s2)):
            raise ValueError(f"sigma must be >= 0 with the shape of y {y.shape}, got "
                             f"shape {s2.shape}")
        s2 = s2.reshape(y2.shape)
    if max_order not in (1, 2):
        raise ValueError(f"max_order must be 1 or 2, got {max_order!r}")
    return d, y2, s2


def extrapolate(d, y, sigma=None, max_order: int = 2) -> Extrapolation:
    """Fit y(d) = a + b/d (+ c/d² when supported) per column and return a.

    Args:
        d: the sizes, ``(m,)``, at least two, distinct.
        y: values, ``(m,)`` or ``(m, k)``: one row per size.
        sigma: standard errors of ``y`` (same shape), e.g. the seed scatter of seed means;
            None when there is no scatter (one seed). A zero error is floored at 1e-12 of
            the column's scale so that exact values keep a finite weight.
        max_order: 2 allows the c/d² term (needs ≥ 4 sizes and a significant c), 1 never.

    Returns:
        :class:`Extrapolation` with arrays of shape ``(k,)`` (``(1,)`` for 1-D ``y``).
        A column with a non-finite value gives ``nan``.

    Raises:
        ValueError: for fewer than two distinct positive sizes, a ``y`` or ``sigma`` of
            the wrong shape, a negative or NaN ``sigma``, or a bad ``max_order``.
    """
    d, y, sigma = _check(d, y, sigma, max_order)
    x = 1.0 / d
    k = y.shape[1]
    value, unc, chi = (np.full(k, np.nan) for _ in range(3))
    order = np.ones(k, dtype=int)
    coefs = np.full((k, 3), np.nan)
    for j in range(k):
        col = y[:, j]
        if not np.all(np.isfinite(col)):
            continue
        s = None
        if sigma is not None:
            scale = max(np.max(np.abs(col)), np.finfo(float).tiny)
            s = np.maximum(sigma[:, j], 1e-12 * scale)
        coefs[j], unc[j], order[j], chi[j] = _one(x, col, s, max_order)
        value[j] = coefs[j, 0]
    return Extrapolation(value, unc, order, coefs, chi)
