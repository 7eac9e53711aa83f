"""The learning-curves record shared by the theory and its finite-size twins."""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from .status import Status, status_of

__all__ = ["Curves", "CURVE_KEYS"]

#: The curve fields, in order; also the keys of the CLI's JSON output.
CURVE_KEYS = ("tau", "train_loss", "test_loss", "gen_loss", "score_error")


class Curves(NamedTuple):
    """Learning curves on a grid of training times, with their convergence status.

    One record for every source of curves: the exact finite-size flow
    (:func:`rfdiff.learning_curves`), discrete training (:func:`rfdiff.gradient_descent`)
    and the asymptotic theory (:func:`rfdiff.asymptotic_curves`). Each array has the
    grid's shape.

    Attributes:
        tau: training times τ = kη/d² (``inf`` allowed).
        train_loss: L_train(τ).
        test_loss: L_test(τ).
        gen_loss: L_gen = L_test − L_train.
        score_error: E_score = (1/d) E_{x∼P_t}‖s_A(x) − s*(x)‖².
        converged: per-τ convergence of the computation (``None``: exact, nothing
            iterative, every point counts as converged).
        residual: per-τ largest relative residual of the solves (``None`` when exact).
        nodes: number of contour nodes of the theory (``None`` for finite size).
    """

    tau: jax.Array
    train_loss: jax.Array
    test_loss: jax.Array
    gen_loss: jax.Array
    score_error: jax.Array
    converged: jax.Array | None = None
    residual: jax.Array | None = None
    nodes: int | None = None

    @property
    def status(self) -> Status:
        """:class:`rfdiff.Status` of the whole record (``NONFINITE`` if a loss is NaN/inf)."""
        conv = True if self.converged is None else self.converged
        return status_of(conv, (self.train_loss, self.test_loss, self.score_error))

    @property
    def ok(self) -> bool:
        """True when every time converged (always True for exact finite-size curves)."""
        return self.converged is None or bool(np.all(self.converged))

    @property
    def curves(self) -> Curves:
        """The record itself (kept so that ``result.curves`` reads as before)."""
        return self

    def as_dict(self) -> dict:
        """The curves as lists, keyed as in the CLI's JSON output (the five curve keys)."""
        return {k: np.asarray(getattr(self, k)).tolist() for k in CURVE_KEYS}
