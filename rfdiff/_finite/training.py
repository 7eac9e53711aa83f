"""Discrete training twins of the gradient flow.

- :func:`gradient_descent`: full-batch gradient descent on the exact noise-averaged loss,
  A ← A − η∇L, i.e. M ← M − (2δτ/ψ_p)(Δ_t M U + √Δ_t Vᵀ) with δτ = η/d². It tends to the
  flow as η → 0 with a first-order (O(η)) error.
- :func:`noisy_training`: the protocol of the reference paper's experiments — at every step a
  fresh noise draw ξ_ν per training point, the empirical denoising loss
  (1/(nd)) Σ_ν ‖√Δ_t s_A(x_ν(t)) + ξ_ν‖², and a plain gradient or Adam step on A.

With weight decay (``Problem.ridge`` = λ > 0) both minimise L + λΔ_t‖A‖²_F/(pd): U becomes
U + λI in the gradient-descent step, and the penalty's gradient is added to the noisy one.
The logged losses never include the penalty.

Both are jitted ``lax.scan`` loops over the segments between logged steps and log the exact
noise-averaged losses (train, test, score error) of the current weights at a log-spaced set
of steps, with τ = kη/d².
"""

from __future__ import annotations

import functools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .flow import Curves, losses_of
from .instance import Instance
from .._common.status import NotConvergedError
from .._common.validation import positive, positive_int
from .._common.x64 import float64

__all__ = ["gradient_descent", "noisy_training", "log_steps"]

# fold_in tag of the protocol's noise (instance.py uses 0x5EED for its own noise)
_NOISE_STREAM = 0x7A1


def log_steps(steps: int, points: int) -> np.ndarray:
    """About ``points`` distinct log-spaced step counts in [1, steps].

    The counts are ``points`` log-spaced values from 1 to ``steps``, rounded to integers,
    with duplicates removed (so fewer than ``points`` when ``points`` is large compared
    with the number of distinct counts available). They start at 1 and, for
    ``points`` ≥ 2, end at ``steps``; ``points = 1`` gives ``[1]``.

    Args:
        steps: the last step count (a positive integer).
        points: how many log-spaced values to draw before removing duplicates (a positive
            integer).

    Returns:
        A 1-D numpy integer array of increasing, distinct step counts in [1, steps].

    Raises:
        ValueError: if ``steps`` or ``points`` is not a positive integer, naming the
            argument and the value.
    """
    steps = positive_int("steps", steps)
    points = positive_int("points", points)
    ks = np.unique(np.round(np.logspace(0, np.log10(steps), points)).astype(int))
    return ks


def _curves_from(inst, ks, eta, Ms):
    train, test, score = losses_of(inst, Ms)
    tau = jnp.asarray(ks, dtype=jnp.float64) * eta / inst.d**2
    with np.errstate(invalid="ignore"):  # inf − inf after a divergence, which is flagged
        gen = test - train
    return Curves(tau, train, test, gen, score)


@float64
def gradient_descent(instance: Instance, eta: float, steps: int, points: int = 50,
                     M0=None, *, throw: bool = True) -> Curves:
    """Full-batch gradient descent on the exact (noise-averaged) training loss.

    Args:
        instance: a finite-size :class:`Instance`.
        eta: learning rate η of A ← A − η∇_A L (training time advances by η/d² per step).
        steps: number of steps.
        points: about how many log-spaced steps to log.
        M0: initial M = A/√p (default 0).
        throw: raise :class:`rfdiff.NotConvergedError` when the training diverges
            (default). With ``throw=False`` the curves are returned with ``converged``
            False from the first logged step whose train loss grew, and a RuntimeWarning.

    Returns:
        :class:`Curves` at the logged steps (τ = kη/d²); with ``Problem.ridge`` > 0 the
        steps are those of the penalised loss and the losses are logged without the penalty.

    Raises:
        ValueError: for η ≤ 0 or a bad step count.
        NotConvergedError: with ``throw=True``, when the train loss grows (η above the
            stability limit 2/λ_max of the step).
    """
    if not isinstance(instance, Instance):
        raise ValueError(f"instance must be a rfdiff.Instance, got {instance!r}")
    eta = positive("eta", eta)
    ks = log_steps(steps, points)
    Ms, a = _gd_weights(instance, eta, ks, M0)
    return _check_descent(_curves_from(instance, ks, eta, Ms), instance, eta, a, throw)


def _gd_weights(instance: Instance, eta: float, ks, M0=None):
    """Weights M_k of gradient descent at the step counts ``ks``, and the step's a = cδτ."""
    p = instance.problem
    dtau = eta / instance.d**2
    a = 2 * dtau * p.delta / p.psi_p
    b = 2 * dtau * math.sqrt(p.delta) / p.psi_p
    M = jnp.zeros((instance.d, instance.p)) if M0 is None else jnp.asarray(M0, jnp.float64)
    segs = jnp.asarray(np.diff(np.concatenate([[0], ks])))
    # weight decay: the step of L + λΔ‖M‖²/d is the ridgeless one with U + λI
    U = instance.U + p.ridge * jnp.eye(instance.p) if p.ridge > 0 else instance.U
    return _gd_scan(U, instance.V.T, M, segs, a, b), a


def _check_descent(curves: Curves, instance, eta: float, a: float, throw: bool) -> Curves:
    """Flag a diverging descent: on a convex quadratic loss a stable step never raises
    the train loss, so a growth beyond rounding means η is past the stability limit."""
    train = np.asarray(curves.train_loss)
    prev = np.concatenate([[np.inf], np.minimum.accumulate(train)[:-1]])
    grew = ~np.isfinite(train) | (train > prev * (1 + 1e-9) + 1e-12)
    if not grew.any():
        return curves
    first = int(np.argmax(grew))
    converged = np.arange(train.size) < first
    # the step M ← M(I − aU) − ... is stable for a·λ_max(U) < 2, a ∝ η
    limit = 2 * eta / (a * float(np.linalg.eigvalsh(np.asarray(instance.U))[-1]))
    msg = (f"gradient_descent diverged: the train loss grew to {train[first]:.3g} at "
           f"tau = {float(curves.tau[first]):.3g}; eta = {eta:g} is past the stability "
           f"limit eta < {limit:.3g}; lower eta")
    if throw:
        raise NotConvergedError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=3)
    return curves._replace(converged=jnp.asarray(converged))


@jax.jit
def _gd_scan(U, Vt, M, segs, a, b):
    def segment(M, length):
        M = jax.lax.fori_loop(0, length, lambda _, M: M - a * (M @ U) - b * Vt, M)
        return M, M
    _, Ms = jax.lax.scan(segment, M, segs)
    return Ms


@functools.lru_cache(maxsize=None)
def _noisy_scan(act, optimizer):
    def loss(A, Wt, X0, xi, et, sq, p, ridge):
        Xt = et * X0 + sq * xi
        F = act(Wt @ Xt)  # (p, n)
        resid = sq * (A @ F) / jnp.sqrt(p) + xi
        # weight decay λΔ‖A‖²/(pd) (sq² = Δ, A.shape[0] = d)
        return jnp.sum(resid**2) / xi.size + ridge * sq**2 * jnp.sum(A**2) / (p * A.shape[0])

    grad = jax.grad(loss)

    def run(A, opt_state, key, segs, Wt, X0, et, sq, p, eta, b1, b2, eps, ridge):
        def step(carry, _):
            A, (m, v, k), key = carry
            key, sub = jax.random.split(key)
            xi = jax.random.normal(sub, X0.shape, dtype=A.dtype)
            gA = grad(A, Wt, X0, xi, et, sq, p, ridge)
            if optimizer == "adam":
                k = k + 1
                m = b1 * m + (1 - b1) * gA
                v = b2 * v + (1 - b2) * gA**2
                mh = m / (1 - b1**k)
                vh = v / (1 - b2**k)
                A = A - eta * mh / (jnp.sqrt(vh) + eps)
            else:
                A = A - eta * gA
            return (A, (m, v, k), key), None

        def segment(carry, length):
            carry = jax.lax.fori_loop(0, length, lambda _, c: step(c, None)[0], carry)
            return carry, carry[0]

        _, As = jax.lax.scan(segment, (A, opt_state, key), segs)
        return As

    return jax.jit(run)


@float64
def noisy_training(instance: Instance, eta: float, steps: int, points: int = 50, *,
                   seed: int = 0, optimizer: str = "gd", betas=(0.9, 0.999),
                   eps: float = 1e-8) -> Curves:
    """Training with a fresh noise draw per sample and step (the paper's protocol).

    Args:
        instance: a finite-size :class:`Instance` (its W and X are used; its matrices give
            the exact noise-averaged losses that are logged).
        eta: learning rate; τ = kη/d² (for Adam τ is only a step counter in these units).
        steps: number of steps.
        points: about how many log-spaced steps to log.
        seed: seed of the noise draws.
        optimizer: ``"gd"`` or ``"adam"``.

    Returns:
        :class:`Curves` at the logged steps; with ``Problem.ridge`` > 0 the steps include the
        gradient of the penalty λΔ_t‖A‖²/(pd) and the losses are logged without it.

    Raises:
        ValueError: for η ≤ 0, an unknown optimizer or a bad step count.
    """
    eta = positive("eta", eta)
    if optimizer not in ("gd", "adam"):
        raise ValueError(f"optimizer must be 'gd' or 'adam', got {optimizer!r}")
    ks = log_steps(steps, points)
    Ms = _noisy_weights(instance, eta, ks, seed, optimizer, betas, eps)
    return _curves_from(instance, ks, eta, Ms)


def _noisy_weights(instance: Instance, eta: float, ks, seed: int = 0, optimizer: str = "gd",
                   betas=(0.9, 0.999), eps: float = 1e-8):
    """Weights M_k = A_k/√p of the noisy protocol at the step counts ``ks``."""
    pr = instance.problem
    Wt = instance.W / math.sqrt(instance.d)
    A0 = jnp.zeros((instance.d, instance.p))
    state = (jnp.zeros_like(A0), jnp.zeros_like(A0), jnp.zeros(()))
    segs = jnp.asarray(np.diff(np.concatenate([[0], ks])))
    # the loss above is the mean over n·d entries, so its gradient is ∇_A L exactly
    run = _noisy_scan(pr.activation, optimizer)
    # a stream of its own: split(PRNGKey(seed))[1] is the data stream of draw(), so the
    # plain key would make the first step's noise equal the training set of the
    # instance drawn from the same seed
    key = jax.random.fold_in(jax.random.PRNGKey(seed), _NOISE_STREAM)
    As = run(A0, state, key, segs, Wt, instance.X, math.exp(-pr.t),
             math.sqrt(pr.delta), float(instance.p), eta, betas[0], betas[1], eps, pr.ridge)
    return As / math.sqrt(instance.p)
