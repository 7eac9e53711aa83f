"""Reverse-time generation for the Ornstein–Uhlenbeck process, with any score.

Forward process (THEORY.md §1): dx = −x dt + √2 dB, so x_t = e^{−t}x₀ + √Δ_t ξ. Generation
runs backwards from t_max to t_min, started at x ~ N(0, I), with a score s(x, t):

- reverse-time SDE: going from t to t − h, dx = [x + 2 s(x, t)] h + √2 dB̄;
- probability-flow ODE: going from t to t − h, dx = [x + s(x, t)] h.

Steps (h = t_k − t_{k+1} > 0, z ~ N(0, I)):

- ``euler_maruyama`` (SDE): x ← x + h(x + 2s) + √(2h) z;
- ``exponential`` (SDE): the linear drift integrated exactly with s frozen over the step,
  x ← e^h x + 2(e^h − 1) s + √(e^{2h} − 1) z (the variance is exact for s = 0);
- ``euler`` (ODE): x ← x + h(x + s);
- ``heun`` (ODE): the explicit trapezoidal rule (Euler predictor, trapezoidal corrector).

Time grids (t_0 = t_max > … > t_N = t_min):

- ``log_snr`` (default): uniform in ℓ(t) = log(e^{2t} − 1) = −log SNR(t), i.e. geometric in
  t at small t (where the score varies on the scale t) and uniform in t at large t (where
  it varies on the scale 1);
- ``log``: uniform in log t;
- ``uniform``: uniform in t (poor at small t_min; kept for checks).

Score models are pytrees with ``__call__(x, t)`` for a batch x of shape (B, d), so that one
compiled sampler serves every score of the same shapes (e.g. the learned score at every
training time τ). Two reference scores live here:

- :class:`GaussianScore`: the exact score of N(0, Σ) under the OU process,
  s*(x, t) = −(e^{−2t}Σ + Δ_t I)^{−1} x (Σ diagonal, as in :func:`rfdiff.tools.draw`);
- :class:`EmpiricalScore`: the exact score of the empirical training distribution, the
  Gaussian mixture (1/n) Σ_ν N(e^{−t}x_ν, Δ_t I); generating with it reproduces the
  training points (it memorises).

Discretisation error, without sampling noise. With the Gaussian score every step is linear
and diagonal, x ← a x + b z per coordinate, so the covariance of the output is propagated
exactly (v ← a²v + b², from v = 1) by :func:`expected_covariance`; the step→0 limit has a
closed form (:func:`limit_covariance`). Their difference is the sampler's discretisation
error on the second moments; its measured order in the number of steps is reported in
docs/generation.md.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._common.validation import positive, positive_int
from .._common.x64 import float64

__all__ = [
    "METHODS",
    "SCHEDULES",
    "GaussianScore",
    "EmpiricalScore",
    "time_grid",
    "sample",
    "expected_covariance",
    "limit_covariance",
    "covariance_error",
]

#: sampler name → True for the SDE samplers (which draw noise at each step).
METHODS = {"euler_maruyama": True, "exponential": True, "euler": False, "heun": False}
SCHEDULES = ("log_snr", "log", "uniform")


def _delta(t):
    # Δ_t = 1 − e^{−2t} without cancellation at small t
    return -jnp.expm1(-2.0 * t)


# ----------------------------------------------------------------------------- scores

@functools.partial(jax.tree_util.register_dataclass, data_fields=["sigma_eigs"],
                   meta_fields=[])
@dataclasses.dataclass(frozen=True)
class GaussianScore:
    """Exact score of N(0, diag(sigma_eigs)) under the OU process.

    Attributes:
        sigma_eigs: (d,) diagonal of Σ (all > 0).
    """

    sigma_eigs: jax.Array

    @property
    def dim(self) -> int:
        """Dimension d."""
        return int(np.shape(self.sigma_eigs)[0])

    def __call__(self, x, t):
        c = jnp.exp(-2.0 * t) * self.sigma_eigs + _delta(t)
        return -x / c


@functools.partial(jax.tree_util.register_dataclass, data_fields=["points"], meta_fields=[])
@dataclasses.dataclass(frozen=True)
class EmpiricalScore:
    """Exact score of the empirical distribution of ``points`` under the OU process.

    s(x, t) = (e^{−t} Σ_ν w_ν(x) x_ν − x)/Δ_t with softmax weights
    w_ν ∝ exp(−‖x − e^{−t}x_ν‖²/(2Δ_t)).

    Attributes:
        points: (n, d) training points, one per row.
    """

    points: jax.Array

    @property
    def dim(self) -> int:
        """Dimension d."""
        return int(np.shape(self.points)[1])

    def __call__(self, x, t):
        delta = _delta(t)
        mu = jnp.exp(-t) * self.points  # (n, d)
        # squared distances by the Gram expansion: no (B, n, d) buffer
        d2 = (jnp.sum(x * x, axis=1)[:, None] - 2.0 * x @ mu.T
              + jnp.sum(mu * mu, axis=1)[None, :])
        w = jax.nn.softmax(-d2 / (2.0 * delta), axis=1)
        return (w @ mu - x) / delta


def _check_score(score):
    if not callable(score) or not hasattr(score, "dim"):
        raise ValueError(f"score must be a score model with a 'dim' (e.g. GaussianScore), "
                         f"got {score!r}")
    return score.dim


# ----------------------------------------------------------------------------- time grid

def _check_times(t_min, t_max):
    t_min = positive("t_min", t_min)
    t_max = positive("t_max", t_max)
    if t_max <= t_min:
        raise ValueError(f"t_max must exceed t_min, got t_max={t_max!r} <= t_min={t_min!r}")
    return t_min, t_max


@float64
def time_grid(steps: int, t_min: float = 1e-3, t_max: float = 5.0,
              schedule: str = "log_snr") -> np.ndarray:
    """Decreasing diffusion times t_0 = t_max > … > t_N = t_min of a sampler.

    Args:
        steps: number of steps N (≥ 1); the grid has N + 1 points.
        t_min: last time (> 0; samples are those of the process at t_min).
        t_max: first time (> t_min; the sampler starts at N(0, I)).
        schedule: ``"log_snr"``, ``"log"`` or ``"uniform"`` (see the module docstring).

    Returns:
        (N + 1,) array.

    Raises:
        ValueError: for a bad step count, times or schedule.
    """
    steps = positive_int("steps", steps)
    t_min, t_max = _check_times(t_min, t_max)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    u = np.linspace(0.0, 1.0, steps + 1)
    if schedule == "uniform":
        t = t_max + (t_min - t_max) * u
    elif schedule == "log":
        t = np.exp(np.log(t_max) + (np.log(t_min) - np.log(t_max)) * u)
    else:
        def ell(s):
            return np.log(np.expm1(2.0 * s))
        lv = ell(t_max) + (ell(t_min) - ell(t_max)) * u
        t = 0.5 * np.log1p(np.exp(lv))
    t[0], t[-1] = t_max, t_min  # exact end points despite round-off
    return t


# ----------------------------------------------------------------------------- steps

def _euler_maruyama(score, x, t, tn, z):
    h = t - tn
    return x + h * (x + 2.0 * score(x, t)) + jnp.sqrt(2.0 * h) * z


def _exponential(score, x, t, tn, z):
    h = t - tn
    return (jnp.exp(h) * x + 2.0 * jnp.expm1(h) * score(x, t)
            + jnp.sqrt(jnp.expm1(2.0 * h)) * z)


def _euler(score, x, t, tn, z):
    return x + (t - tn) * (x + score(x, t))


def _heun(score, x, t, tn, z):
    h = t - tn
    k1 = x + score(x, t)
    xp = x + h * k1
    k2 = xp + score(xp, tn)
    return x + 0.5 * h * (k1 + k2)


_STEPS = {"euler_maruyama": _euler_maruyama, "exponential": _exponential,
          "euler": _euler, "heun": _heun}


def _check_method(method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)}, got {method!r}")
    return method


@functools.partial(jax.jit, static_argnames=("method",))
def sample_core(score, x0, times, key, method):
    """Run one sampler from x0 (B, d) along ``times`` (jit-able core; JAX arrays)."""
    step = _STEPS[method]
    noisy = METHODS[method]
    keys = jax.random.split(key, times.shape[0] - 1)

    def body(x, inp):
        t, tn, k = inp
        z = jax.random.normal(k, x.shape, dtype=x.dtype) if noisy else jnp.zeros_like(x)
        return step(score, x, t, tn, z), None

    x, _ = jax.lax.scan(body, x0, (times[:-1], times[1:], keys))
    return x


@float64
def sample(score, n_samples: int, *, seed: int = 0, method: str = "exponential",
           steps: int = 200, t_min: float = 1e-3, t_max: float = 5.0,
           schedule: str = "log_snr", batch: int = 1024) -> np.ndarray:
    """Generate samples by integrating the reverse-time dynamics from N(0, I) at t_max.

    Args:
        score: a score model (:class:`GaussianScore`, :class:`EmpiricalScore`,
            :class:`rfdiff.tools.FeatureScore`).
        n_samples: number of samples.
        seed: seed of the initial noise and of the SDE noise. Batch b uses the key
            ``fold_in(PRNGKey(seed), b)``, so samples depend on (seed, batch).
        method: ``"exponential"`` (default), ``"euler_maruyama"``, ``"heun"``, ``"euler"``.
        steps: number of steps N.
        t_min, t_max: end and start of the reverse dynamics.
        schedule: time grid (see :func:`time_grid`).
        batch: samples integrated together (bounds memory: the empirical score holds a
            (batch, n) distance matrix).

    Returns:
        (n_samples, d) array of samples of the process at t_min.

    Raises:
        ValueError: for a bad score, count, method, grid or batch.
    """
    d = _check_score(score)
    n_samples = positive_int("n_samples", n_samples)
    batch = positive_int("batch", batch)
    method = _check_method(method)
    times = jnp.asarray(time_grid(steps, t_min, t_max, schedule))
    root = jax.random.PRNGKey(seed)
    out = []
    for b, lo in enumerate(range(0, n_samples, batch)):
        size = min(batch, n_samples - lo)
        k0, k1 = jax.random.split(jax.random.fold_in(root, b))
        x0 = jax.random.normal(k0, (size, d), dtype=jnp.float64)
        out.append(sample_core(score, x0, times, k1, method))
    return jnp.concatenate(out, axis=0)


# ----------------------------------------------------------------------------- moments

@functools.partial(jax.jit, static_argnames=("method",))
def _propagate(sigma_eigs, times, method):
    score = GaussianScore(sigma_eigs)
    step = _STEPS[method]
    ones, zeros = jnp.ones_like(sigma_eigs), jnp.zeros_like(sigma_eigs)

    def body(v, inp):
        t, tn = inp
        # the step is x ← a x + b z per coordinate: read a and b off the step itself
        a = step(score, ones[None], t, tn, zeros[None])[0]
        b = step(score, zeros[None], t, tn, ones[None])[0]
        return a * a * v + b * b, None

    v, _ = jax.lax.scan(body, ones, (times[:-1], times[1:]))
    return v


def _check_sigma(sigma_eigs):
    lam = np.asarray(sigma_eigs, dtype=float)
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"sigma_eigs must be a non-empty 1-D array of finite values > 0, "
                         f"got {sigma_eigs!r}")
    return lam


@float64
def expected_covariance(sigma_eigs, *, method: str = "exponential", steps: int = 200,
                        t_min: float = 1e-3, t_max: float = 5.0,
                        schedule: str = "log_snr") -> np.ndarray:
    """Exact covariance of the discretised sampler's output with the exact Gaussian score.

    With s = s* of N(0, diag λ) every step is linear and diagonal, so E[x xᵀ] is diagonal
    and propagates without sampling noise, starting from N(0, I) at t_max.

    Args:
        sigma_eigs: (d,) diagonal of Σ.
        method, steps, t_min, t_max, schedule: as in :func:`sample`.

    Returns:
        (d,) diagonal of the output covariance.

    Raises:
        ValueError: for bad eigenvalues or sampler settings.
    """
    lam = _check_sigma(sigma_eigs)
    method = _check_method(method)
    times = jnp.asarray(time_grid(steps, t_min, t_max, schedule))
    return _propagate(jnp.asarray(lam), times, method)


@float64
def limit_covariance(sigma_eigs, *, method: str = "exponential", t_min: float = 1e-3,
                     t_max: float = 5.0) -> np.ndarray:
    """Output covariance of the continuous-time sampler (steps → 0), from N(0, I) at t_max.

    With c(t) = e^{−2t}λ + Δ_t = 1 + a e^{−2t}, a = λ − 1 (the exact marginal variance):

    - ODE: x(t) = x(t_max) √(c(t)/c(t_max)), so v = c(t_min)/c(t_max);
    - SDE: the deviation e = v − c obeys de/dr = 2(1 − 2/c)e in reverse time r, so
      v = c(t_min) + (1 − c(t_max)) e^{2(t_max − t_min)} ((e^{2t_min} + a)/(e^{2t_max} + a))².

    Both tend to c(t_min) = e^{−2t_min}λ + Δ_{t_min} as t_max → ∞.

    Args:
        sigma_eigs: (d,) diagonal of Σ.
        method: the sampler (only whether it is an SDE or an ODE matters).
        t_min, t_max: as in :func:`sample`.

    Returns:
        (d,) diagonal of the limiting covariance.

    Raises:
        ValueError: for bad eigenvalues or sampler settings.
    """
    lam = _check_sigma(sigma_eigs)
    method = _check_method(method)
    t_min, t_max = _check_times(t_min, t_max)
    a = lam - 1.0
    c_min = 1.0 + a * math.exp(-2.0 * t_min)
    c_max = 1.0 + a * math.exp(-2.0 * t_max)
    if not METHODS[method]:
        return c_min / c_max
    ratio = (math.exp(2.0 * t_min) + a) / (math.exp(2.0 * t_max) + a)
    return c_min + (1.0 - c_max) * math.exp(2.0 * (t_max - t_min)) * ratio**2


@float64
def covariance_error(sigma_eigs, *, method: str = "exponential", steps: int = 200,
                     t_min: float = 1e-3, t_max: float = 5.0,
                     schedule: str = "log_snr") -> float:
    """Discretisation error of a sampler on the second moments of N(0, Σ).

    ``max_i |v_i(N) − v_i(∞)| / v_i(∞)``, with v(N) from :func:`expected_covariance` and v(∞)
    from :func:`limit_covariance`: the relative covariance error due to the step alone
    (no sampling noise, no start or stop bias).

    Args:
        sigma_eigs: (d,) diagonal of Σ.
        method, steps, t_min, t_max, schedule: the sampler, as in :func:`sample`.

    Returns:
        The relative error (float).

    Raises:
        ValueError: for bad eigenvalues or sampler settings.
    """
    v = expected_covariance(sigma_eigs, method=method, steps=steps, t_min=t_min,
                            t_max=t_max, schedule=schedule)
    ref = limit_covariance(sigma_eigs, method=method, t_min=t_min, t_max=t_max)
    return float(np.max(np.abs(v - ref) / ref))
