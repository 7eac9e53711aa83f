"""Finite-size runs on a real data set and on its Gaussian surrogate, side by side.

The surrogate is Gaussian data N(0, Σ̂) with the data set's own covariance spectrum
(:meth:`DataSpectrum.from_data`, uncompressed); its population matrices are exact. Each draw
r uses one seed for both runs, so that the real and the surrogate instance share the same
feature weights W; the real run takes a seeded random subset of n points for training and
the rest of the data set as the held-out sample for Ũ, Ṽ, S. Losses of the real run are
therefore test losses on unseen real points, with the statistical error of that finite
sample (:func:`rfdiff.tools.held_out_error`); its score error is measured against the
Gaussian surrogate's score (see :mod:`rfdiff._finite.given`).

The asymptotic theory of the same problem (:func:`rfdiff.asymptotic_curves` with
:attr:`RealDataComparison.problem`) and the timescales of every set of curves
(:func:`rfdiff.curve_timescales`) complete the comparison.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._common import positive_int
from .._model import DataSpectrum, Problem
from .flow import gradient_flow, learning_curves
from .given import MIN_HELD_OUT
from .held_out import held_out_error
from .instance import finite_size_instance

__all__ = ["RealDataComparison", "real_data_comparison"]


@dataclasses.dataclass(frozen=True)
class RealDataComparison:
    """Real-data and Gaussian-surrogate finite-size runs at one (ψ_p, ψ_n, t).

    Attributes:
        problem: the problem with the data set's spectrum (the surrogate's law; pass it
            to :func:`rfdiff.asymptotic_curves` for the theory).
        d, p, n: sizes; ``held_out``: held-out points of each real run.
        tau: the training-time grid.
        real, surrogate: one :class:`Curves` per draw.
        real_eigs, surrogate_eigs: eigenvalues of U per draw, shape (draws, p).
        population_error: per draw, the estimated relative error of the real run's Ũ.
        real_error: per draw, the :class:`rfdiff.tools.HeldOutError` of the real run's
            curves (the statistical error from its finite held-out sample).
    """

    problem: Problem
    d: int
    p: int
    n: int
    held_out: int
    tau: np.ndarray
    real: tuple
    surrogate: tuple
    real_eigs: np.ndarray
    surrogate_eigs: np.ndarray
    population_error: tuple
    real_error: tuple = ()

    def mean(self, which: str, key: str) -> np.ndarray:
        """Mean over the draws of one curve.

        Args:
            which: ``"real"`` or ``"surrogate"``.
            key: a field of :class:`Curves`, such as ``"test_loss"``.

        Returns:
            The mean curve on :attr:`tau`, a float64 array.

        Raises:
            KeyError: for an unknown ``which``; AttributeError for an unknown ``key``.
        """
        runs = {"real": self.real, "surrogate": self.surrogate}[which]
        return np.mean([np.asarray(getattr(c, key)) for c in runs], axis=0)

    def mean_error(self, key: str) -> np.ndarray:
        """Held-out statistical error of ``mean("real", key)``: the mean of the draws' errors.

        The draws share most of their held-out points, so their errors are correlated; by
        Minkowski's inequality the rms error of the mean over draws is at most the mean of
        the draws' rms errors, whatever the correlation, and that bound is returned.

        Args:
            key: ``"test_loss"``, ``"gen_loss"`` or ``"score_error"`` (``"train_loss"``
                has no held-out error: it is 0).

        Returns:
            The error on :attr:`tau`, a float64 array.

        Raises:
            AttributeError: for an unknown ``key``.
        """
        return np.mean([np.asarray(e.error(key)) for e in self.real_error], axis=0)


def real_data_comparison(problem: Problem, X, tau, *, draws: int = 2, seed: int = 0,
                         method: str = "exact") -> RealDataComparison:
    """Finite-size learning curves on real data points and on their Gaussian surrogate.

    Args:
        problem: ψ_p, ψ_n, t and the activation; its spectrum is replaced by the data
            set's (uncompressed, centred).
        X: (N, d) data set, one point per row, centred (e.g. by
            :func:`rfdiff.tools.standardize`); N ≥ n + 10 with n = round(ψ_n d).
        tau: training times (1-D, ≥ 0; ``inf`` allowed).
        draws: number of (W, training subset) draws (a positive integer).
        seed: first seed; draw r uses ``seed + r`` for W, the subset and the surrogate.
        method: construction of the instances (see :func:`finite_size_instance`).

    Returns:
        :class:`RealDataComparison`.

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem`, X is not a finite (N, d)
            array, it has too few points for n training plus 10 held-out ones, or
            ``draws`` is not a positive integer, naming the argument.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    draws = positive_int("draws", draws)
    spectrum = DataSpectrum.from_data(X)  # checks X (finite, 2-D, not constant)
    X = np.asarray(X, dtype=np.float64)
    N, d = X.shape
    surrogate = dataclasses.replace(problem, spectrum=spectrum)
    p, n = surrogate.sizes(d)
    if N < n + MIN_HELD_OUT:
        raise ValueError(f"X has {N} points: n={n} training points (psi_n={problem.psi_n:g}, "
                         f"d={d}) and {MIN_HELD_OUT} held-out ones are needed")
    real, gauss, real_eigs, gauss_eigs, errors, real_error = [], [], [], [], [], []
    for r in range(draws):
        s = seed + r
        order = np.random.default_rng(s).permutation(N)
        inst = finite_size_instance(surrogate, d, seed=s, method=method,
                                    X=X[order[:n]], X_test=X[order[n:]])
        ref = finite_size_instance(surrogate, d, seed=s, method=method)
        for target, eigs, one in ((real, real_eigs, inst), (gauss, gauss_eigs, ref)):
            flow = gradient_flow(one)
            target.append(learning_curves(flow, tau))
            eigs.append(np.asarray(flow.eigvals))
            if one is inst:
                real_error.append(held_out_error(flow, tau))
        errors.append(inst.info["population_error"]["U_pop"])
    return RealDataComparison(surrogate, d, p, n, N - n, np.asarray(real[0].tau),
                              tuple(real), tuple(gauss), np.asarray(real_eigs),
                              np.asarray(gauss_eigs), tuple(errors), tuple(real_error))

