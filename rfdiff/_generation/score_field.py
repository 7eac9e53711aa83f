"""The learned score at every diffusion time: one closed-form gradient flow per grid time.

A score field trains one random-features score per diffusion time t_k of a grid, all on
one draw (the same W and training set X: :func:`rfdiff.tools.draw` depends on the seed, the
sizes and the spectrum, not on t, and this is checked). At training time τ (the paper's
time, THEORY.md §2, shared by every t_k) the rescaled weights are (see :mod:`rfdiff._flow`)

    M_k(τ) = −Δ_k^{−1/2} V_kᵀ Q_k diag(g_k(τ)) Q_kᵀ,   g_k = (1 − e^{−c_k λ τ})/λ,

with U_k = Q_k diag(λ) Q_kᵀ and c_k = 2Δ_k/ψ_p. Each U_k is decomposed once; any τ then
costs O(K d p²) for the whole grid.

Between grid times the score is interpolated in the noise-prediction form: with
H_k = √Δ_k M_k (so that −√Δ_t s(x, t) = −H σ(W̃x) predicts the noise ξ and is O(1) at
every t), H(t) is linear in log t between neighbouring grid points and constant outside
the grid, and s(x, t) = H(t) σ(W̃x)/√Δ_t. The score keeps the exact 1/√Δ_t growth at
small t, and at the grid times it is the trained score exactly.

Default grid (:func:`diffusion_times`): 24 times log-spaced between t_min = 1e-3 and
t_max = 5. Log spacing because the score changes on the scale t at small t; t_max = 5
because the marginal covariance e^{−2t}Σ + Δ_t I is then within e^{−10}(Σ − I) ≈
5e-5 (Σ − I) of the sampler's start N(0, I); t_min = 1e-3 leaves a noise of
√Δ ≈ 0.045 per coordinate on the generated points. With the learned score at one τ,
doubling the grid (32 → 64 times, d = 32, p = 1024, n = 16) changed f_mem by less than
its bootstrap error (docs/generation.md).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._model.activations import Activation
from .._finite import gradient_flow, learning_curves, phi1
from .._finite.instance import METHODS as INSTANCE_METHODS, finite_size_instance
from .._model.problem import Problem
from .._common.validation import positive, positive_int
from .._common.x64 import float64
from .._timescales import LOSS_TAU

__all__ = ["ScoreField", "FeatureScore", "diffusion_times", "score_field", "field_weights",
           "feature_score"]

#: training-time grid on which the per-t loss curves are stored (paper time τ); τ = ∞ is
#: included because at small t the slowest modes are still relaxing at τ = 1e8
DEFAULT_LOSS_TAU = LOSS_TAU  # (rfdiff._timescales.grids.LOSS_TAU, kept under this name)


def _delta(t):
    return -jnp.expm1(-2.0 * t)


@float64
def diffusion_times(t_min: float = 1e-3, t_max: float = 5.0, count: int = 24) -> np.ndarray:
    """Log-spaced diffusion times t_min = t_0 < … < t_{K−1} = t_max.

    Args:
        t_min: smallest time (> 0).
        t_max: largest time (> t_min).
        count: number of times K (≥ 2).

    Returns:
        (K,) ascending array.

    Raises:
        ValueError: for bad bounds or count.
    """
    t_min = positive("t_min", t_min)
    t_max = positive("t_max", t_max)
    if t_max <= t_min:
        raise ValueError(f"t_max must exceed t_min, got t_max={t_max!r} <= t_min={t_min!r}")
    count = positive_int("count", count)
    if count < 2:
        raise ValueError(f"count must be >= 2, got {count!r}")
    return np.geomspace(t_min, t_max, count)


@dataclasses.dataclass(frozen=True)
class ScoreField:
    """Per-time flow solutions of one draw, ready to give the score at any τ.

    Attributes:
        problem: the :class:`Problem` template (ψ_p, ψ_n, activation, spectrum; its own
            t is that of the first grid time).
        d, p, n: sizes.
        seed: the seed of the draw.
        method: how U, V were built (``"exact"`` by default).
        times: (K,) diffusion times, ascending.
        W: (p, d) feature weights; X: (d, n) training points; sigma_eigs: (d,) diagonal Σ.
        eigvals: (K, p) eigenvalues of each U_k (ascending, clipped at 0).
        Q: (K, p, p) eigenvectors.
        B: (K, d, p) V_kᵀ Q_k / √Δ_k, so that M_k(τ) = −B_k diag(g_k(τ)) Q_kᵀ.
        rate: (K,) c_k = 2Δ_k/ψ_p.
        null: (K, p) modes treated as null at τ = ∞.
        loss_tau: (T,) training times of the stored loss curves.
        train_loss, test_loss, score_error: (K, T) learning curves of each t_k.
        info: per-time construction details (Mehler terms and bounds).
    """

    problem: Problem
    d: int
    p: int
    n: int
    seed: int
    method: str
    times: np.ndarray
    W: np.ndarray
    X: np.ndarray
    sigma_eigs: np.ndarray
    eigvals: np.ndarray
    Q: np.ndarray
    B: np.ndarray
    rate: np.ndarray
    null: np.ndarray
    loss_tau: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    score_error: np.ndarray
    info: tuple

    @property
    def best_tau(self) -> np.ndarray:
        """(K,) training time of the smallest score error at each t_k (on ``loss_tau``).

        Past this time the score error grows again: the loss-based onset of memorisation.
        """
        return np.asarray(self.loss_tau)[np.argmin(np.asarray(self.score_error), axis=1)]


def _check_times_array(times):
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or np.any(t <= 0) \
            or np.any(np.diff(t) <= 0):
        raise ValueError(f"times must be a 1-D strictly increasing array of at least 2 "
                         f"finite times > 0, got {times!r}")
    return t


@float64
def score_field(problem: Problem, d: int, times=None, seed: int = 0, method: str = "exact",
                *, loss_tau=None, progress=None, **instance_kwargs) -> ScoreField:
    """Train (in closed form) one random-features score per diffusion time, on one draw.

    Args:
        problem: ψ_p, ψ_n, activation and data spectrum; its diffusion time is replaced by
            each grid time.
        d: input dimension; p and n follow from ``problem.sizes(d)``.
        times: ascending diffusion times (default :func:`diffusion_times`).
        seed: seed of the draw of W and X (shared by every t_k).
        method: ``"exact"`` (default), ``"gaussian_equivalent"`` (approximate U, about
            half the build time at p = 1024; its Ω is the same draw at every t, as it
            depends on the seed only) or ``"monte_carlo"``.
        loss_tau: training times at which to store each t_k's learning curves (default
            :data:`DEFAULT_LOSS_TAU`, 1e-2 … 1e8 and ∞).
        progress: optional callback ``(done, total)``, called after each diffusion time
            (default None: quiet).
        **instance_kwargs: passed to :func:`rfdiff.finite_size_instance`.

    Returns:
        :class:`ScoreField`.

    Raises:
        ValueError: for a bad problem, size, grid or method.
        RuntimeError: if the draw differed between grid times (it must not).
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    d = positive_int("d", d)
    times = diffusion_times() if times is None else _check_times_array(times)
    if method not in INSTANCE_METHODS:
        raise ValueError(f"method must be one of {INSTANCE_METHODS}, got {method!r}")
    loss_tau = DEFAULT_LOSS_TAU if loss_tau is None else np.asarray(loss_tau, dtype=float)
    parts = {k: [] for k in ("eigvals", "Q", "B", "rate", "null", "train", "test", "score")}
    info, ref = [], None
    for k, t in enumerate(times):
        inst = finite_size_instance(dataclasses.replace(problem, t=float(t)), d, seed=seed,
                                    method=method, **instance_kwargs)
        if ref is None:
            ref = inst
        elif not (np.array_equal(inst.W, ref.W) and np.array_equal(inst.X, ref.X)):
            raise RuntimeError(f"the draw changed between t={times[0]!r} and t={t!r}")
        flow = gradient_flow(inst)
        curves = learning_curves(flow, loss_tau)
        parts["eigvals"].append(flow.eigvals)
        parts["Q"].append(flow.Q)
        parts["B"].append(inst.V.T @ flow.Q / np.sqrt(inst.problem.delta))
        parts["rate"].append(flow.rate)
        parts["null"].append(flow.null)
        parts["train"].append(curves.train_loss)
        parts["test"].append(curves.test_loss)
        parts["score"].append(curves.score_error)
        info.append({"t": float(t), **inst.info})
        if progress is not None:
            progress(k + 1, len(times))
    s = {k: np.stack([np.asarray(v) for v in vals]) for k, vals in parts.items()}
    return ScoreField(dataclasses.replace(problem, t=float(times[0])), d, ref.p, ref.n,
                      int(seed), method, times, np.asarray(ref.W), np.asarray(ref.X),
                      np.asarray(ref.sigma_eigs), s["eigvals"], s["Q"], s["B"], s["rate"],
                      s["null"], loss_tau, s["train"], s["test"], s["score"], tuple(info))


def _g(eigvals, rate, null, tau):
    """g_k(τ) of shape (K, p) for a scalar τ (``inf`` allowed), as in :mod:`rfdiff._flow`."""
    if np.isinf(tau):
        safe = jnp.where(null, 1.0, eigvals)
        return jnp.where(null, 0.0, 1.0 / safe)
    c = rate[:, None]
    return c * tau * phi1(c * eigvals * tau)


@jax.jit
def _weights_core(B, Q, g):
    return jnp.einsum("kdp,kp,kqp->kdq", B, -g, Q)


def _check_tau(tau):
    tau = np.atleast_1d(np.asarray(tau, dtype=float))
    if tau.ndim != 1 or np.any(np.isnan(tau)) or np.any(tau < 0):
        raise ValueError(f"tau must be a 1-D array of times >= 0, got {tau!r}")
    return tau


@float64
def field_weights(field: ScoreField, tau) -> np.ndarray:
    """Rescaled weights M_k(τ) = A_k(τ)/√p of every grid time at training times τ.

    Args:
        field: from :func:`score_field`.
        tau: scalar or 1-D array of training times ≥ 0 (``inf`` allowed).

    Returns:
        (T, K, d, p) array; equal to :func:`rfdiff.tools.weights_at` of each t_k's flow.

    Raises:
        ValueError: for negative or NaN times.
    """
    tau = _check_tau(tau)
    B, Q = jnp.asarray(field.B), jnp.asarray(field.Q)
    lam, rate, null = (jnp.asarray(field.eigvals), jnp.asarray(field.rate),
                       jnp.asarray(field.null))
    return jnp.stack([_weights_core(B, Q, _g(lam, rate, null, float(s))) for s in tau])


@functools.partial(jax.tree_util.register_dataclass, data_fields=["Wt", "log_times", "H"],
                   meta_fields=["activation"])
@dataclasses.dataclass(frozen=True)
class FeatureScore:
    """Random-features score s(x, t) = H(t) σ(W̃x)/√Δ_t with H interpolated in log t.

    Attributes:
        Wt: (p, d) W̃ = W/√d.
        log_times: (K,) log of the grid times (ascending).
        H: (K, d, p) noise-prediction weights √Δ_k M_k at the grid times.
        activation: σ.
    """

    Wt: jax.Array
    log_times: jax.Array
    H: jax.Array
    activation: Activation

    @property
    def dim(self) -> int:
        """Dimension d."""
        return int(np.shape(self.Wt)[1])

    def weights(self, t):
        """H(t): linear in log t between grid times, constant outside."""
        lt = self.log_times
        u = jnp.log(t)
        i = jnp.clip(jnp.searchsorted(lt, u) - 1, 0, lt.shape[0] - 2)
        w = jnp.clip((u - lt[i]) / (lt[i + 1] - lt[i]), 0.0, 1.0)
        return (1.0 - w) * self.H[i] + w * self.H[i + 1]

    def __call__(self, x, t):
        feats = self.activation(x @ self.Wt.T)  # (B, p)
        return feats @ self.weights(t).T / jnp.sqrt(_delta(t))


@float64
def feature_score(field: ScoreField, tau: float) -> FeatureScore:
    """The learned score of every grid time at one training time τ, as a score model.

    Args:
        field: from :func:`score_field`.
        tau: training time ≥ 0 (``inf`` allowed).

    Returns:
        :class:`FeatureScore` for :func:`rfdiff.sample`.

    Raises:
        ValueError: for a negative, NaN or non-scalar τ.
    """
    tau = _check_tau(tau)
    if tau.size != 1:
        raise ValueError(f"tau must be a single training time, got {tau!r}")
    M = field_weights(field, tau)[0]  # (K, d, p)
    delta = -np.expm1(-2.0 * np.asarray(field.times))
    H = np.sqrt(delta)[:, None, None] * M
    return FeatureScore(np.asarray(field.W) / np.sqrt(field.d), np.log(field.times), H,
                        field.problem.activation)
