"""The paper's training protocol against the gradient flow: the excess of its losses.

:func:`rfdiff.noisy_training` (the protocol of the reference paper's experiments) takes
plain gradient steps on the empirical denoising loss with one fresh noise draw ξ_ν per
training point and step. In M = A/√p, with h = 2η/(pd) = 2δτ/ψ_p and δτ = η/d²,

    M_{k+1} = M_k − h (Δ_t M_k Û_k + √Δ_t V̂_kᵀ),
    Û_k = (1/n) Σ_ν σ_νσ_νᵀ,  V̂_k = (1/n) Σ_ν σ_ν ξ_νᵀ  (σ_ν = σ(W̃ x_ν(t)), this step's ξ).

The step is affine in M and unbiased (E Û_k = U, E V̂_k = V) and its draws are independent
of the past, so **the mean path is exactly gradient descent** at the same η, M̄_k (E[M_k] =
M̄_k at every k), and since every loss is quadratic in M,

    E[L(M_k)] − L(M̄_k) = q_L(D_k) exactly,  D_k = M_k − M̄_k,

with q_train(D) = (Δ_t/d) Tr(D U Dᵀ), q_test(D) = (Δ_t/d) Tr(D Ũ Dᵀ), q_score(D) = (1/d) Tr(D Ũ Dᵀ).
The excess over the flow splits into two parts of order η:

- **noise** E[L(M_k)] − L(M̄_k): D_{k+1} = D_k P − h ζ_k(M̄_k) − hΔ_t D_k δÛ_k, with
  P = I − hΔ_t U and the per-step gradient noise ζ_k(M) = (1/n) Σ_ν (r_ν σ_νᵀ − E r_ν σ_νᵀ),
  r_ν = Δ_t M σ_ν + √Δ_t ξ_ν (√Δ_t times the residual; ζ_k = (d/2)(∇_M L̂_k − ∇_M L)). The
  last term adds O(η) relative to the covariance and is dropped, which leaves
  E[D_kᵀD_k] = h² Σ_{j<k} P^{k−1−j} Ξ(M̄_j) P^{k−1−j} with
  Ξ(M) = E[ζ(M)ᵀζ(M)] = (1/n²) Σ_ν Cov_ξ(r_ν σ_νᵀ) (p×p). In the eigenbasis U = Q Λ Qᵀ,
  with c = 2Δ_t/ψ_p, k = τ/δτ and h²/δτ = 4η/(ψ_p² d²), to first order in η:

      E[D̃ᵀD̃](τ) = (4η/(ψ_p² d²)) C(τ),
      C_ab(τ) = ∫_0^τ ds e^{−c(λ_a + λ_b)(τ − s)} Ξ̃_ab(M(s)),   Ξ̃ = QᵀΞQ,

  at the flow's weights M(s); the noise excess is then (Δ_t/d) Σ_a λ_a C_aa (train),
  (Δ_t/d) Σ_ab Ũ'_ab C_ab (test, Ũ' = QᵀŨQ) and (1/d) Σ_ab Ũ'_ab C_ab (score error),
  times 4η/(ψ_p² d²).
- **discretisation** L(M̄_k) − L(M(τ)), exact: gradient descent is the flow with each mode's
  clock advanced by ℓ(cλδτ) = −log(1 − cλδτ)/(cλδτ) = 1 + cλδτ/2 + O(δτ²), i.e.
  g_k = cτ ℓ φ₁(cλτℓ) in place of cτ φ₁(cλτ) (flow.py's mode weights).

Ξ is a fourth moment of the noise-dependent features (E[‖r_ν‖² σ_νσ_νᵀ]); it is estimated by
Monte Carlo over fresh noise draws (K per training point, the unbiased sample covariance
over the draws of each point, which needs no per-point mean), in independent batches that
give the standard error. One set of draws serves every time: the features σ_ν do not
depend on M. The time integral is exact for a source linear between nodes (an exponential
integrator on a log-spaced grid of s merged with the requested τ).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .flow import _g_e_core, _losses_of_modes, gradient_flow, learning_curves, losses_of, phi1
from .instance import Instance
from .training import _gd_weights, _noisy_weights, log_steps
from .._common.memory import check_fits
from .._common.validation import positive, positive_int, seed_int
from .._common.x64 import float64

__all__ = ["Losses", "ProtocolExcess", "ProtocolMeasurement", "protocol_excess",
           "protocol_measurement"]

# batches of noise draws: independent estimates, whose spread gives the standard error
_BATCHES = 8
# fold_in tag of the draws of Ξ, apart from the data and the protocol's own noise
_STREAM = 0x9A1


class Losses(NamedTuple):
    """One array over τ per loss, in the order of :class:`rfdiff.Curves`: the fields
    ``train_loss``, ``test_loss``, ``score_error``."""

    train_loss: np.ndarray
    test_loss: np.ndarray
    score_error: np.ndarray


def _add(a: Losses, b: Losses) -> Losses:
    return Losses(*(np.asarray(x) + np.asarray(y) for x, y in zip(a, b)))


@dataclasses.dataclass(frozen=True)
class ProtocolExcess:
    """Predicted excess of the noisy protocol's losses over the gradient flow.

    Attributes:
        tau: the training times τ = kη/d².
        eta: the learning rate η (A ← A − η∇L̂).
        noise: E[L(noisy)] − L(gradient descent at the same η), first order in η
            (Monte Carlo over noise draws), per loss: a NamedTuple with the fields
            ``train_loss``, ``test_loss``, ``score_error`` (so are the other per-loss
            attributes).
        noise_se: Monte-Carlo standard error of ``noise``.
        discretisation: L(gradient descent) − L(flow), exact (deterministic).
        noise_draws: noise draws per training point used for Ξ.
        nodes: number of time nodes of the integral.
    """

    tau: np.ndarray
    eta: float
    noise: Losses
    noise_se: Losses
    discretisation: Losses
    noise_draws: int
    nodes: int

    @property
    def total(self) -> Losses:
        """E[L(noisy)] − L(flow) = ``noise`` + ``discretisation``."""
        return _add(self.noise, self.discretisation)


@dataclasses.dataclass(frozen=True)
class ProtocolMeasurement:
    """Excess of the noisy protocol measured over seeds, at its logged steps.

    Attributes:
        tau: logged times τ = kη/d².
        eta: the learning rate.
        seeds: number of noisy runs.
        noise: mean over runs of q_L(M − M̄) (M̄ gradient descent at the same η), the
            low-variance estimator of E[L(noisy)] − L(M̄) (the two are equal exactly).
        noise_se: its standard error over runs.
        direct: mean over runs of L(noisy) − L(M̄), the difference of the logged curves
            (same expectation as ``noise``, a larger spread from the term linear in M − M̄).
        direct_se: its standard error.
        discretisation: L(M̄) − L(flow), from the gradient-descent run (deterministic).
    """

    tau: np.ndarray
    eta: float
    seeds: int
    noise: Losses
    noise_se: Losses
    direct: Losses
    direct_se: Losses
    discretisation: Losses

    @property
    def total(self) -> Losses:
        """Mean over runs of L(noisy) − L(flow) (standard error ``direct_se``)."""
        return _add(self.direct, self.discretisation)


# ----------------------------------------------------------------------------- checks

def _exact_instance(instance) -> Instance:
    if not isinstance(instance, Instance):
        raise ValueError(f"instance must be a rfdiff.Instance, got {instance!r}")
    if instance.method != "exact":
        # the protocol's mean follows the exact noise average; other matrices would not
        # be the ones its steps average to
        raise ValueError("instance must be built with method='exact' (the noise average "
                         f"the protocol's steps follow), got method={instance.method!r}")
    return instance


def _check_step(flow, eta: float) -> float:
    """cλ_maxδτ of the stiffest mode; the first-order excess needs it well below 1."""
    y = flow.rate * (float(np.max(flow.eigvals)) + flow.ridge) * eta / flow.instance.d**2
    if y >= 1:
        raise ValueError(f"eta = {eta:g} gives c*lambda_max*eta/d^2 = {y:.3g} >= 1: the step "
                         "overshoots the stiffest mode of U, where no expansion in eta holds; "
                         "lower eta")
    return y


# ----------------------------------------------------------------------------- prediction

def _psi2(x):
    """∫_0^1 w e^{−xw} dw = (1 − e^{−x}(1 + x))/x², by its series below 0.05."""
    small = x < 0.05
    xs = jnp.where(small, 1.0, x)
    big = (-jnp.expm1(-xs) - xs * jnp.exp(-xs)) / xs**2
    # Σ_k (−x)^k/(k!(k+2)); the first omitted term is below 2e-14 at x = 0.05
    ser = 0.5 + x * (-1 / 3 + x * (1 / 8 + x * (-1 / 30 + x * (1 / 144 + x * (-1 / 840
                                                                     + x / 5760)))))
    return jnp.where(small, ser, big)


@functools.cache
def _excess_kernel(act):
    def source(Ft, xi, B, g, delta):
        """Ξ̃ at weights N = MQ = −Δ^{−1/2} B diag(g), from draws Ft = Qᵀσ, ξ (K, ·, n)."""
        K, n = Ft.shape[0], Ft.shape[2]
        N = -(B * g[None, :]) / jnp.sqrt(delta)
        R = delta * jnp.einsum("ia,kav->kiv", N, Ft) + jnp.sqrt(delta) * xi
        gram = jnp.einsum("kiv,liv->vkl", R, R)  # r·r' between the draws of one point
        # unbiased sample covariance of r σᵀ over the K draws of each point
        H = (jax.vmap(jnp.diag)(jax.vmap(jnp.diag)(gram)) - gram / K) / (K - 1)
        Y = jnp.einsum("vlk,kav->lav", H, Ft)
        return jnp.einsum("lav,lbv->ab", Ft, Y) / n**2

    def batch(key, Wt, X, Q, B, lam, null, Up, nodes, et, delta, rate, ridge, K):
        d, n = X.shape
        xi = jax.random.normal(key, (K, d, n), dtype=X.dtype)
        F = act(jnp.einsum("pd,kdn->kpn", Wt, et * X[None] + jnp.sqrt(delta) * xi))
        Ft = jnp.einsum("pa,kpn->kan", Q, F)
        g = _g_e_core(lam, null, rate, nodes, ridge)[0]
        kappa = rate * (lam[:, None] + lam[None, :] + 2 * ridge)

        def step(carry, inp):
            C, xi0, s0 = carry
            s1, g1 = inp
            xi1 = source(Ft, xi, B, g1, delta)
            x = kappa * (s1 - s0)
            h = s1 - s0
            w0 = _psi2(x)
            C = jnp.exp(-x) * C + h * (w0 * xi0 + (phi1(x) - w0) * xi1)
            out = jnp.stack([jnp.sum(lam * jnp.diag(C)), jnp.sum(Up * C)])
            return (C, xi1, s1), out

        xi0 = source(Ft, xi, B, g[0], delta)
        init = (jnp.zeros_like(xi0), xi0, nodes[0])
        _, out = jax.lax.scan(step, init, (nodes[1:], g[1:]))
        return jnp.concatenate([jnp.zeros((1, 2)), out])  # C(0) = 0

    def run(keys, Wt, X, Q, B, lam, null, Up, nodes, et, delta, rate, ridge, K):
        return jax.lax.map(lambda k: batch(k, Wt, X, Q, B, lam, null, Up, nodes, et, delta,
                                           rate, ridge, K), keys)

    return jax.jit(run, static_argnums=(13,))


def _nodes(tau, flow, per_decade: int):
    """0, a log-spaced grid from below the fastest weight time to max τ, and τ itself."""
    pos = tau[tau > 0]
    hi = float(np.max(pos))
    lo = min(float(np.min(pos)), 0.01 / (flow.rate * (float(np.max(flow.eigvals)) + flow.ridge)))
    count = max(2, math.ceil(np.log10(hi / lo) * per_decade) + 1)
    return np.unique(np.concatenate([[0.0], np.geomspace(lo, hi, count), pos]))


def _discretisation(flow, eta: float, tau) -> Losses:
    """L(gradient descent) − L(flow) at τ, from the closed form of both in the modes."""
    inst = flow.instance
    pr = inst.problem
    lam = jnp.asarray(flow.eigvals)
    f = {k: jnp.asarray(v) for k, v in flow._forms.items()}
    tau = jnp.asarray(tau)[:, None]
    lr = lam + flow.ridge
    c = flow.rate
    y = c * lr * eta / inst.d**2
    # GD mode weight g_k = (1 − (1 − y)^k)/λ = cτℓφ₁(cλτℓ) with ℓ = −log(1 − y)/y
    ys = jnp.where(y < 1e-8, 1.0, y)
    ell = jnp.where(y < 1e-8, 1.0 + 0.5 * y, -jnp.log1p(-ys) / ys)
    g_gd = c * tau * ell * phi1(c * lr * tau * ell)
    g_fl = c * tau * phi1(c * lr * tau)
    e = jnp.zeros_like(g_gd)  # M(0) = 0: the e-terms are absent from the forms
    args = (pr.delta, inst.d, inst.score_trace)
    gd = _losses_of_modes(f, lam, g_gd, e, *args)
    fl = _losses_of_modes(f, lam, g_fl, e, *args)
    return Losses(*(np.asarray(a - b) for a, b in zip(gd, fl)))


def _tau_grid(tau) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(tau, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"tau must be a non-empty 1-D array of finite times >= 0, got "
                         f"{np.asarray(tau)!r}")
    return arr


@float64
def protocol_excess(instance: Instance, eta: float, tau, *, noise_draws: int = 64,
                    seed: int = 0, nodes_per_decade: int = 16) -> ProtocolExcess:
    """Excess of the noisy protocol's losses over the gradient flow, to first order in η.

    The protocol is :func:`rfdiff.noisy_training` with plain gradient steps (fresh noise
    per training point and step), started from A = 0. Its mean path is exactly
    :func:`rfdiff.gradient_descent` at the same η; ``noise`` is the excess over that path
    (the weight covariance driven by the per-step gradient noise, first order in η),
    ``discretisation`` the exact difference between gradient descent and the flow, and
    ``total`` their sum. The derivation is in the module docstring and the docs page on
    the training protocol.

    Args:
        instance: an exact finite-size :class:`Instance` (``method="exact"``).
        eta: learning rate η of A ← A − η∇L̂ (δτ = η/d² per step); η·cλ_max/d² must be
            below 1.
        tau: 1-D array of finite training times τ ≥ 0.
        noise_draws: K, fresh noise draws per training point for the gradient-noise
            covariance (≥ 4), split into up to 8 independent batches (rounded down to a
            multiple of their number) whose spread gives ``noise_se``.
        seed: seed of the noise draws.
        nodes_per_decade: density of the log-spaced time nodes of the integral (the source
            is linear between nodes; the kernel is integrated exactly).

    Returns:
        :class:`ProtocolExcess` on the grid ``tau``.

    Raises:
        ValueError: for an instance that is not exact, η ≤ 0 or too large, a bad τ grid,
            ``noise_draws`` < 4 or a bad seed or node density, naming the argument and
            the value; MemoryPlanError (a ValueError) when the buffers would not fit.
    """
    inst = _exact_instance(instance)
    eta = positive("eta", eta)
    tau = _tau_grid(tau)
    K = positive_int("noise_draws", noise_draws)
    if K < 4:
        raise ValueError(f"noise_draws must be >= 4, got {noise_draws!r}")
    seed = seed_int("seed", seed)
    per_decade = positive_int("nodes_per_decade", nodes_per_decade)
    flow = gradient_flow(inst)
    _check_step(flow, eta)
    pr = inst.problem
    batches = min(_BATCHES, K // 2)
    Kb = K // batches
    d, p, n = inst.d, inst.p, inst.n
    check_fits(f"protocol excess (d={d}, p={p}, n={n}, {Kb} draws per batch)",
               8.0 * (6 * p * p + 2 * p * d + Kb * n * (3 * p + 3 * d + Kb)),
               remedy="use fewer noise draws")
    disc = _discretisation(flow, eta, tau)
    if not np.any(tau > 0):
        zero = Losses(*(np.zeros_like(tau),) * 3)
        return ProtocolExcess(tau, eta, zero, zero, disc, batches * Kb, 1)
    nodes = _nodes(tau, flow, per_decade)
    # repeat the last node up to a multiple of 16 (zero-length steps leave C unchanged),
    # so that nearby grids share one compilation of the scan
    padded = np.concatenate([nodes, np.full(-len(nodes) % 16, nodes[-1])])
    Q = jnp.asarray(flow.Q)
    B = inst.V.T @ Q
    Up = Q.T @ inst.U_pop @ Q
    # a stream of its own (split(PRNGKey(seed), k)[1] is draw()'s data stream for any k)
    keys = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(seed), _STREAM), batches)
    out = _excess_kernel(pr.activation)(
        keys, inst.W / math.sqrt(d), inst.X, Q, B, jnp.asarray(flow.eigvals),
        jnp.asarray(flow.null), Up, jnp.asarray(padded), math.exp(-pr.t), pr.delta,
        flow.rate, flow.ridge, Kb)
    out = np.asarray(out)[:, np.searchsorted(nodes, tau), :]  # (batches, T, 2)
    pref = 4 * eta / (pr.psi_p**2 * d**2) / d
    per_batch = np.stack([pref * pr.delta * out[..., 0], pref * pr.delta * out[..., 1],
                          pref * out[..., 1]])  # (3, batches, T)
    mean = per_batch.mean(axis=1)
    se = per_batch.std(axis=1, ddof=1) / math.sqrt(batches)
    return ProtocolExcess(tau, eta, Losses(*mean), Losses(*se), disc, batches * Kb,
                          len(nodes))


# ----------------------------------------------------------------------------- measurement

def _quad_forms(inst, D):
    """(q_train, q_test, q_score)(D): the quadratic parts of the losses, from losses_of."""
    plus, minus = losses_of(inst, D), losses_of(inst, -D)
    zero = losses_of(inst, np.zeros((inst.d, inst.p)))
    return np.stack([(a + b) / 2 - z for a, b, z in zip(plus, minus, zero)])


@float64
def protocol_measurement(instance: Instance, eta: float, steps: int, *, seeds: int = 8,
                         points: int = 20, seed: int = 0) -> ProtocolMeasurement:
    """Measure the noisy protocol's excess over gradient descent and over the flow.

    Runs :func:`rfdiff.noisy_training` (plain gradient steps) ``seeds`` times with the
    seeds ``seed, seed + 1, ...`` and compares its weights at the logged steps with
    gradient descent at the same η (its exact mean path) and with the exact flow.

    Args:
        instance: an exact finite-size :class:`Instance`.
        eta: learning rate (η·cλ_max/d² below 1).
        steps: number of steps of each run.
        seeds: number of independent runs (≥ 2, for the standard errors).
        points: about how many log-spaced steps to log (:func:`rfdiff.tools.log_steps`).
        seed: first seed of the runs.

    Returns:
        :class:`ProtocolMeasurement` at the logged times.

    Raises:
        ValueError: for an instance that is not exact, η ≤ 0 or too large, a bad step or
            point count, fewer than 2 seeds or a bad seed, naming the argument and value.
    """
    inst = _exact_instance(instance)
    eta = positive("eta", eta)
    ks = log_steps(steps, points)
    S = positive_int("seeds", seeds)
    if S < 2:
        raise ValueError(f"seeds must be >= 2 (the standard errors need two runs), got {seeds!r}")
    seed = seed_int("seed", seed)
    flow = gradient_flow(inst)
    _check_step(flow, eta)
    tau = ks * eta / inst.d**2
    Mbar = np.asarray(_gd_weights(inst, eta, ks)[0])
    L_gd = np.stack(losses_of(inst, Mbar))
    ref = learning_curves(flow, tau)
    L_fl = np.stack([ref.train_loss, ref.test_loss, ref.score_error])
    quad, diff = [], []
    for s in range(S):
        M = np.asarray(_noisy_weights(inst, eta, ks, seed + s))
        quad.append(_quad_forms(inst, M - Mbar))
        diff.append(np.stack(losses_of(inst, M)) - L_gd)
    quad, diff = np.stack(quad), np.stack(diff)  # (S, 3, T)

    def mean_se(x):
        return Losses(*x.mean(axis=0)), Losses(*(x.std(axis=0, ddof=1) / math.sqrt(S)))

    noise, noise_se = mean_se(quad)
    direct, direct_se = mean_se(diff)
    return ProtocolMeasurement(tau, eta, S, noise, noise_se, direct, direct_se,
                               Losses(*(L_gd - L_fl)))
