"""Metrics of generated samples: memorisation, distance to N(0, Σ), nearest neighbours.

- Memorisation fraction f_mem (the reference paper's criterion): a sample x is memorised
  when ‖x − x_(1)‖ / ‖x − x_(2)‖ < threshold (1/3 by default), x_(1), x_(2) its nearest
  and second-nearest training points. The error bar is the bootstrap standard deviation
  over the generated samples (the training set is held fixed).
- Gaussian KL: KL(N(μ̂, Ĉ) ‖ N(0, Σ)) from the sample mean and covariance. It measures
  the second moments only and has a finite-sample floor ≈ d(d + 3)/(4B) for B exact
  samples; compare with the same metric on exact samples (the study reports it).
- Sliced Wasserstein distance SW₂ to N(0, Σ): the root mean over random unit directions θ
  of W₂² between the projected samples and N(0, θᵀΣθ). The 1-D W₂² between an empirical
  measure and a Gaussian is computed exactly (no quantile discretisation): with sorted
  projections y_(i), z_i = Φ^{−1}(i/B) and s² = θᵀΣθ,
  W₂² = (1/B)Σ y_(i)² − 2 s Σ_i y_(i)(φ(z_{i−1}) − φ(z_i)) + s².
- Nearest-neighbour distances from each sample to the training set and to fresh test
  points of the same size: memorised samples sit much closer to the former. (When the
  samples have the wrong scale, e.g. collapse towards the origin, the two medians differ
  through the geometry of the two point sets alone; f_mem is the memorisation measure.)
- Second-moment ratio E‖x‖²/Tr Σ: 1 for the right overall scale.

All distances use the Gram expansion ‖x − y‖² = ‖x‖² − 2x·y + ‖y‖² in row blocks, so no
(B, n, d) buffer is formed.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .._common.validation import positive, positive_int
from .._common.x64 import float64

__all__ = [
    "Memorisation",
    "two_nearest",
    "memorisation_fraction",
    "gaussian_kl",
    "sliced_wasserstein",
    "sample_metrics",
]


class Memorisation(NamedTuple):
    """Result of :func:`memorisation_fraction`.

    Attributes:
        fraction: f_mem, the fraction of memorised samples.
        error: bootstrap standard deviation of f_mem.
        ratio: (B,) nearest/second-nearest distance ratio of each sample.
    """

    fraction: float
    error: float
    ratio: np.ndarray


def _as_points(name, x, d=None):
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be a finite 2-D array (points, d), got shape "
                         f"{np.shape(x)}")
    if d is not None and x.shape[1] != d:
        raise ValueError(f"{name} must have {d} columns, got shape {x.shape}")
    return x


@functools.partial(jax.jit, static_argnames=("k",))
def _knn_block(x, y, k):
    d2 = (jnp.sum(x * x, axis=1)[:, None] - 2.0 * x @ y.T + jnp.sum(y * y, axis=1)[None, :])
    neg, _ = jax.lax.top_k(-d2, k)
    return jnp.sqrt(jnp.maximum(-neg, 0.0))


@float64
def two_nearest(samples, points, *, block: int = 4096) -> np.ndarray:
    """Distances from each sample to its nearest and second-nearest point.

    Args:
        samples: (B, d) array.
        points: (n, d) array, n ≥ 2.
        block: samples per block (bounds the (block, n) distance matrix).

    Returns:
        (B, 2) array: nearest and second-nearest Euclidean distances.

    Raises:
        ValueError: for bad shapes or fewer than two points.
    """
    x = _as_points("samples", samples)
    y = _as_points("points", points, x.shape[1])
    if y.shape[0] < 2:
        raise ValueError(f"points must hold at least 2 points, got {y.shape[0]}")
    block = positive_int("block", block)
    yj = jnp.asarray(y)
    return jnp.concatenate([_knn_block(jnp.asarray(x[i:i + block]), yj, 2)
                            for i in range(0, x.shape[0], block)])


@float64
def memorisation_fraction(samples, train, *, threshold: float = 1.0 / 3.0,
                          bootstrap: int = 1000, seed: int = 0) -> Memorisation:
    """f_mem: the fraction of samples much closer to one training point than to any other.

    Args:
        samples: (B, d) generated samples.
        train: (n, d) training points (rows).
        threshold: memorised when nearest/second-nearest distance < threshold (in (0, 1]).
        bootstrap: bootstrap resamples of the generated samples for the error bar.
        seed: seed of the bootstrap.

    Returns:
        :class:`Memorisation`.

    Raises:
        ValueError: for bad shapes or a threshold outside (0, 1].
    """
    threshold = positive("threshold", threshold)
    if threshold > 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    bootstrap = positive_int("bootstrap", bootstrap)
    nn = np.asarray(two_nearest(samples, train))
    ratio = nn[:, 0] / np.maximum(nn[:, 1], np.finfo(float).tiny)
    hit = (ratio < threshold).astype(float)
    rng = np.random.default_rng(seed)
    boots = hit[rng.integers(0, hit.size, size=(bootstrap, hit.size))].mean(axis=1)
    return Memorisation(float(hit.mean()), float(boots.std(ddof=1)) if bootstrap > 1
                        else 0.0, ratio)


def _as_sigma(sigma, d):
    s = np.asarray(sigma, dtype=float)
    if s.ndim == 1:
        s = np.diag(s)
    if s.shape != (d, d) or not np.all(np.isfinite(s)) or not np.allclose(s, s.T):
        raise ValueError(f"sigma must be the (d,) diagonal or a symmetric (d, d) covariance "
                         f"with d={d}, got shape {np.shape(sigma)}")
    if np.linalg.eigvalsh(s)[0] <= 0:
        raise ValueError("sigma must be positive definite")
    return s


@float64
def gaussian_kl(samples, sigma) -> float:
    """KL(N(μ̂, Ĉ) ‖ N(0, Σ)) of the sample mean μ̂ and covariance Ĉ (unbiased, 1/(B−1)).

    Args:
        samples: (B, d) array.
        sigma: Σ as its (d,) diagonal or a (d, d) matrix.

    Returns:
        The KL divergence in nats; ``inf`` when Ĉ is singular (e.g. B ≤ d, or samples
        collapsed onto fewer than d + 1 points).

    Raises:
        ValueError: for bad shapes or a Σ that is not positive definite.
    """
    x = _as_points("samples", samples)
    d = x.shape[1]
    S = _as_sigma(sigma, d)
    if x.shape[0] < 2:
        raise ValueError(f"samples must hold at least 2 points, got {x.shape[0]}")
    mu = x.mean(axis=0)
    C = np.cov(x, rowvar=False).reshape(d, d)
    sign, logdet_c = np.linalg.slogdet(C)
    if sign <= 0:
        return float("inf")
    L = np.linalg.cholesky(S)
    SiC = np.linalg.solve(L.T, np.linalg.solve(L, C))
    Simu = np.linalg.solve(L, mu)
    logdet_s = 2.0 * np.sum(np.log(np.diag(L)))
    return float(0.5 * (np.trace(SiC) + Simu @ Simu - d + logdet_s - logdet_c))


@jax.jit
def _sw2_core(x, dirs, sig):
    B = x.shape[0]
    y = jnp.sort(x @ dirs.T, axis=0)  # (B, L) sorted projections
    s = jnp.sqrt(jnp.einsum("ld,de,le->l", dirs, sig, dirs))
    # φ(Φ^{-1}(i/B)) at i = 0..B (0 at both ends)
    z = jsp.ndtri(jnp.arange(1, B) / B)
    phi = jnp.concatenate([jnp.zeros(1), jnp.exp(-0.5 * z * z) / jnp.sqrt(2 * jnp.pi),
                           jnp.zeros(1)])
    cross = jnp.sum(y * (phi[:-1] - phi[1:])[:, None], axis=0)
    w2 = jnp.mean(y * y, axis=0) - 2.0 * s * cross + s * s
    return jnp.sqrt(jnp.maximum(jnp.mean(w2), 0.0))


@float64
def sliced_wasserstein(samples, sigma, *, projections: int = 256, seed: int = 0) -> float:
    """Sliced 2-Wasserstein distance between the samples and N(0, Σ).

    Args:
        samples: (B, d) array.
        sigma: Σ as its (d,) diagonal or a (d, d) matrix.
        projections: number L of random unit directions.
        seed: seed of the directions (the same seed gives the same directions, so that
            different sample sets are compared on the same slices).

    Returns:
        SW₂ = (mean_θ W₂²(θᵀx, N(0, θᵀΣθ)))^{1/2}.

    Raises:
        ValueError: for bad shapes, Σ or count.
    """
    x = _as_points("samples", samples)
    d = x.shape[1]
    S = _as_sigma(sigma, d)
    projections = positive_int("projections", projections)
    g = jax.random.normal(jax.random.PRNGKey(seed), (projections, d), dtype=jnp.float64)
    dirs = g / jnp.linalg.norm(g, axis=1, keepdims=True)
    return float(_sw2_core(jnp.asarray(x), dirs, jnp.asarray(S)))


@float64
def sample_metrics(samples, train, test, sigma, *, threshold: float = 1.0 / 3.0,
                   bootstrap: int = 1000, projections: int = 256, seed: int = 0) -> dict:
    """All metrics of one set of samples.

    Args:
        samples: (B, d) generated samples.
        train: (n, d) training points.
        test: (m, d) fresh points of the data distribution (m ≥ 2).
        sigma: Σ as its (d,) diagonal or a (d, d) matrix.
        threshold, bootstrap: as in :func:`memorisation_fraction`.
        projections: as in :func:`sliced_wasserstein`.
        seed: seed of the bootstrap and of the slicing directions.

    Returns:
        dict with ``f_mem``, ``f_mem_err``, ``gaussian_kl``, ``sliced_w2``,
        ``nn_train`` and ``nn_test`` (median nearest-neighbour distance to the training
        and test points), ``closer_to_train`` (fraction of samples whose nearest
        training point is closer than their nearest test point) and ``second_moment``
        (E‖x‖²/Tr Σ).

    Raises:
        ValueError: for arrays of the wrong shape or non-finite values.
    """
    x = _as_points("samples", samples)
    S = _as_sigma(sigma, x.shape[1])
    mem = memorisation_fraction(x, train, threshold=threshold, bootstrap=bootstrap,
                                seed=seed)
    nn_train = np.asarray(two_nearest(x, train))[:, 0]
    nn_test = np.asarray(two_nearest(x, test))[:, 0]
    return {
        "f_mem": mem.fraction,
        "f_mem_err": mem.error,
        "gaussian_kl": gaussian_kl(x, S),
        "sliced_w2": sliced_wasserstein(x, S, projections=projections, seed=seed),
        "nn_train": float(np.median(nn_train)),
        "nn_test": float(np.median(nn_test)),
        "closer_to_train": float(np.mean(nn_train < nn_test)),
        "second_moment": float(np.mean(np.sum(x * x, axis=1)) / np.trace(S)),
    }
