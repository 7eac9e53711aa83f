"""Statistical error of held-out losses, from the two halves of the held-out sample.

With a held-out population (``X_test``), Ũ, Ṽ, S are averages over N points, so the test
loss, the generalisation loss and the score error of every training time carry a sampling
error; the train loss does not (U, V are exact for the given training points). The
estimator (:mod:`rfdiff._finite.given`): with X_test cut into its first N_a and last N_b
points, the loss of the full sample at fixed weights M(τ) is the weighted mean of the
losses of the halves, and

    err(L) = √(N_a N_b)/N · |L_a(τ) − L_b(τ)|   (= |L_a − L_b|/2 for equal halves)

estimates its root-mean-square error. L_test is linear in (Ũ, Ṽ): L_a − L_b is the loss
form evaluated on the difference matrices Ũ_a − Ũ_b, Ṽ_a − Ṽ_b, with the flow's own
eigenbasis (no second decomposition). E_score also depends on the held-out second moment
through the reference score, and for it the estimate holds to leading order in 1/N.

One split gives one draw of |L_a − L_b|: the estimate of a single curve scatters by a factor
of order one around the true rms error (it is an rms, not a bound); averaged over curves or
draws it is unbiased in the mean square.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._common import float64
from .flow import Flow, _curves_core, _time_grid

__all__ = ["HeldOutError", "held_out_error"]


class HeldOutError(NamedTuple):
    """Estimated rms statistical error of held-out learning curves (same grid as the curves).

    The fields are the keys of the CLI's JSON: ``tau`` (the training times),
    ``test_loss_err`` (error of L_test(τ)), ``gen_loss_err`` (error of L_gen(τ), equal to
    that of L_test: L_train has none), ``score_error_err`` (error of E_score(τ), to leading
    order in 1/N) and ``held_out`` (N, the number of held-out points).
    """

    tau: jax.Array
    test_loss_err: jax.Array
    gen_loss_err: jax.Array
    score_error_err: jax.Array
    held_out: int

    def error(self, key: str):
        """The error of one curve: ``key`` is a field of :class:`rfdiff.Curves`
        (``"test_loss"``, ``"gen_loss"``, ``"score_error"``; ``"train_loss"`` gives zeros)."""
        if key == "train_loss":
            return np.zeros(np.shape(self.tau))
        return getattr(self, f"{key}_err")

    def as_dict(self) -> dict:
        """The record as lists, keyed by its field names (those of the CLI's JSON)."""
        return {k: (v if k == "held_out" else np.asarray(v).tolist())
                for k, v in self._asdict().items()}


@float64
def held_out_error(flow: Flow, tau) -> HeldOutError:
    """The statistical error of a held-out instance's learning curves, by the half split.

    Args:
        flow: a :class:`rfdiff.Flow` of an instance built with ``X_test``.
        tau: scalar or 1-D array of times τ ≥ 0 (``inf`` allowed), as for
            :func:`rfdiff.learning_curves`.

    Returns:
        :class:`HeldOutError` on the grid: √(N_a N_b)/N times the absolute difference
        L_a − L_b of the losses on the two halves of the held-out points, for the test and
        generalisation losses and the score error (see the module docstring).

    Raises:
        ValueError: if ``flow`` is not a :class:`rfdiff.Flow`, its instance has no
            held-out population (no ``X_test``: the closed-form Gaussian population has no
            sampling error), or for a bad grid.
    """
    if not isinstance(flow, Flow):
        raise ValueError(f"flow must be a rfdiff.Flow, got {flow!r}")
    inst = flow.instance
    halves = inst.half_difference
    if halves is None or flow._half_forms is None:
        raise ValueError("flow has no held-out population to estimate an error from: build "
                         "the instance with X_test (held-out points)")
    tau = _time_grid(tau)
    forms = {k: jnp.asarray(v) for k, v in flow._half_forms.items()}
    # the loss forms on the difference matrices: test − 1 and the score error are then
    # L_a − L_b and E_a − E_b (the train output repeats the train loss and is unused)
    _, test, score = _curves_core(forms, jnp.asarray(flow.eigvals), jnp.asarray(flow.null),
                                  flow.rate, tau, inst.problem.delta, inst.d,
                                  halves.score_trace, flow.ridge)
    err_test = halves.scale * jnp.abs(test - 1.0)
    return HeldOutError(tau, err_test, err_test, halves.scale * jnp.abs(score),
                        int(inst.info["held_out"]))
