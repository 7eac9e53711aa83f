"""Real data sets that ship inside a package, prepared for the theory's conventions.

The theory describes zero-mean data with covariance Σ and κ = Tr Σ/d. A data set is
therefore centred (the mean of each coordinate removed) and scaled by one global factor so
that κ = 1. A global factor keeps the shape of the covariance spectrum; scaling each
coordinate to unit variance would not (and is undefined for the constant border pixels of
the digits).
"""

from __future__ import annotations

import numpy as np

__all__ = ["digits", "standardize"]

_HINT = ("the digits data set needs scikit-learn: pip install 'rfdiff[data]' "
         "(or pip install scikit-learn)")


def standardize(X) -> np.ndarray:
    """Centre the columns of X and scale globally so that Tr Σ̂/d = 1.

    Args:
        X: (n, d) data points, one per row (finite, n ≥ 2, not constant).

    Returns:
        (X − x̄)/s as a float64 array, s² = (1/d) Σ_j Var(X_j) with divisor n; the
        result has column means 0 and mean squared entry 1.

    Raises:
        ValueError: if ``X`` is not a finite real 2-D array with n ≥ 2 rows or is
            constant, naming the argument.
    """
    arr = np.asarray(X)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"X must be an array of real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise ValueError(f"X must be a 2-D array (n, d) with n >= 2, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("X must be finite")
    centred = arr - arr.mean(axis=0)
    scale = float(np.sqrt(np.mean(centred**2)))
    if scale == 0.0:
        raise ValueError(f"X is constant: all {arr.shape[0]} rows are equal")
    return centred / scale


def digits(standardized: bool = True) -> np.ndarray:
    """scikit-learn's bundled 8×8 handwritten digits: 1797 points in d = 64.

    The pixel values are integers 0..16; with ``standardized`` they pass through
    :func:`standardize` (centred, κ = 1). Rows are in the file's order (use a seeded
    permutation to draw training and held-out subsets).

    Args:
        standardized: centre and scale as described above (default), or return the raw
            pixel values as float64.

    Returns:
        A (1797, 64) float64 array.

    Raises:
        ImportError: if scikit-learn is not installed, with the install hint.
    """
    try:
        from sklearn.datasets import load_digits  # optional: the ``data`` extra
    except ImportError as exc:
        raise ImportError(_HINT) from exc
    raw = np.asarray(load_digits().data, dtype=np.float64)
    return standardize(raw) if standardized else raw
