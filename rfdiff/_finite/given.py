"""Instances from given arrays: checks of user-supplied W, X, X_test, and the held-out population.

A finite-size instance normally draws W and the training points itself (:func:`draw`). A
user may instead pass the feature weights W (p × d, N(0, 1)-scaled entries), the training
points X (n × d, one data point per row, any distribution) and a held-out sample X_test
(N × d). The arrays are checked here, before any compute, and the sizes d, p, n are taken
from them and checked against the problem.

The noise of the diffusion is Gaussian whatever the data, so the training matrices U, V are
built exactly as for drawn data (the ``exact`` construction stays exact in the noise). The
population matrices Ũ, Ṽ need the data law. Without X_test the problem's Gaussian law
N(0, diag(ρ_Σ eigenvalues)) is used, in closed form; with X_test they are averages over the
held-out points, still exact in the noise:

    Ũ ≈ (1/N) Σ_μ E_ξ[σ(W̃ x_μ(t)) σ(W̃ x_μ(t))ᵀ],   Ṽ ≈ (1/N) Σ_μ E_ξ[σ(W̃ x_μ(t)) ξᵀ].

Their statistical error is estimated by splitting X_test into its first and second halves
(in the given order): with equal halves, ‖Ũ_a − Ũ_b‖_F / 2 estimates the root-mean-square
error ‖Ũ − E Ũ‖_F of the full-sample average, reported relative to ‖Ũ‖_F.

The same split gives the statistical error of every held-out loss. For halves of N_a and
N_b points, a full-sample mean Ā = (N_a Ā_a + N_b Ā_b)/N of i.i.d. terms with variance v has
Var Ā = v/N and Var(Ā_a − Ā_b) = v N/(N_a N_b), so

    err(Ā) ≈ √(N_a N_b)/N · |Ā_a − Ā_b|   (= |Ā_a − Ā_b|/2 for equal halves).

The test loss at fixed weights is linear in (Ũ, Ṽ), so its half difference is the loss
evaluated on the difference matrices (:class:`HalfDifference`); the score error also
depends on Σ̂ through C⁻¹, and for it the estimate holds to leading order in 1/N.

The score error needs the true score of the noised data law, unknown for real data. With
X_test the instance reports instead the error against the score of the Gaussian with the
same second-moment matrix Σ̂ = (1/N) Σ_μ x_μ x_μᵀ (no centring: centre the data first for
the theory's zero-mean setting), s_G(x) = −C⁻¹x with C = e^{−2t} Σ̂ + Δ_t I, averaged over
the held-out data law: E_score = (1/d) E_μ,ξ ‖M σ(W̃ x_μ(t)) − s_G(x_μ(t))‖². Hence

    S = E[σ(W̃x(t)) x(t)ᵀ] C⁻¹,  E[σ_i x(t)] = e^{−t} E_ξ[σ_i] x_μ + Δ_t E_ξ[σ'_i] w̃_i (Stein),

and E‖s_G‖²/d = Tr(C⁻¹ Σ̂_t C⁻¹)/d = Tr(C⁻¹)/d. For Gaussian data this is the true score
error in the limit N → ∞; ``info["score_reference"]`` says which one an instance carries.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from .mehler import block_layout, mehler_matrix, off_diagonal_max, truncated_coefficients
from .timing import timed

__all__ = ["MIN_HELD_OUT", "HalfDifference", "given_arrays", "held_out_population",
           "held_out_gaussian_equivalent"]

# held-out points needed: the error estimate compares two halves, each of at least 5 points
MIN_HELD_OUT = 10


def _matrix(name: str, value, columns: int | None, rows_name: str) -> np.ndarray:
    """A finite float64 2-D array, its number of columns checked (d) when given."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be a 2-D array ({rows_name}, d), got shape {arr.shape}")
    if columns is not None and arr.shape[1] != columns:
        raise ValueError(f"{name} has d={arr.shape[1]} columns but d={columns} is required "
                         "(from d or the other arrays)")
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite entries")
    return arr


def _not_constant(name: str, arr: np.ndarray) -> None:
    # all rows equal: no spread at all, nothing to learn or to average over
    if np.all(arr == arr[:1]):
        raise ValueError(f"{name} is constant: all {arr.shape[0]} rows are equal")


def given_arrays(problem, d, X, W, X_test):
    """Check user arrays and take the sizes from them.

    Args:
        problem: the :class:`Problem` (its ψ_p, ψ_n fix p, n at dimension d).
        d: the dimension asked for, or None to take it from the arrays.
        X: None or (n, d) training points, one per row.
        W: None or (p, d) feature weights with N(0, 1)-scaled entries.
        X_test: None or (N, d) held-out points (N ≥ :data:`MIN_HELD_OUT`).

    Returns:
        ``(d, W, X, X_test)``: the dimension, and the arrays as float64 NumPy arrays with
        X and X_test transposed to (d, n) and (d, N) (columns are points), or None.

    Raises:
        ValueError: for a non-numeric, non-2-D or non-finite array, a dimension that
            disagrees between d and the arrays, n or p that disagree with
            ``problem.sizes(d)`` (naming both values), constant data, a zero row of W,
            X_test without X, or fewer than :data:`MIN_HELD_OUT` held-out points.
    """
    if X_test is not None and X is None:
        raise ValueError("X_test needs X: the held-out population describes the law of "
                         "given training data; pass X as well")
    cols = None if d is None else d
    arrays = {}
    for name, value, rows in (("W", W, "p"), ("X", X, "n"), ("X_test", X_test, "N")):
        if value is not None:
            arrays[name] = _matrix(name, value, cols, rows)
            if cols is None:
                cols = arrays[name].shape[1]
    if cols is None:
        return d, None, None, None
    p, n = problem.sizes(cols)
    if "W" in arrays and arrays["W"].shape[0] != p:
        raise ValueError(f"W has p={arrays['W'].shape[0]} rows but the problem gives "
                         f"p={p} at d={cols} (psi_p={problem.psi_p:g})")
    if "X" in arrays and arrays["X"].shape[0] != n:
        raise ValueError(f"X has n={arrays['X'].shape[0]} rows but the problem gives "
                         f"n={n} at d={cols} (psi_n={problem.psi_n:g})")
    if "W" in arrays:
        zero = np.nonzero(~np.any(arrays["W"] != 0, axis=1))[0]
        if zero.size:
            raise ValueError(f"W has {zero.size} zero rows (first: row {int(zero[0])}); "
                             "every feature needs a nonzero weight vector")
    if "X" in arrays and n > 1:
        _not_constant("X", arrays["X"])
    if "X_test" in arrays:
        if arrays["X_test"].shape[0] < MIN_HELD_OUT:
            raise ValueError(f"X_test must have at least {MIN_HELD_OUT} rows (held-out "
                             f"points), got {arrays['X_test'].shape[0]}")
        _not_constant("X_test", arrays["X_test"])
    # C-ordered like the drawn arrays, so that the same values give the same products
    T = {k: np.ascontiguousarray(v.T if k != "W" else v) for k, v in arrays.items()}
    return cols, T.get("W"), T.get("X"), T.get("X_test")


@dataclasses.dataclass(frozen=True)
class HalfDifference:
    """Population matrices of the first half of X_test minus those of the second half.

    Attributes:
        U_pop, V_pop, S: Ũ_a − Ũ_b (p×p), Ṽ_a − Ṽ_b and S_a − S_b (p×d).
        score_trace: Tr C_a⁻¹/d − Tr C_b⁻¹/d.
        scale: √(N_a N_b)/N, the factor from a half difference to the rms error of the
            full-sample value (1/2 for equal halves; see the module text).
    """

    U_pop: jax.Array
    V_pop: jax.Array
    S: jax.Array
    score_trace: float
    scale: float


def _halves(X_test):
    N = X_test.shape[1]
    return X_test[:, : N // 2], X_test[:, N // 2:]


def _one_half(problem, act, Wt, Xh, kmax, degree, tol):
    """Ũ, E[σ x(t)ᵀ] and Ṽ of one set of held-out points (exact in the noise)."""
    t, delta = problem.t, problem.delta
    p, n = Wt.shape[0], Xh.shape[1]
    norms = jnp.sqrt(jnp.sum(Wt**2, axis=1))
    m = math.exp(-t) * (Wt @ Xh)
    R = (Wt @ Wt.T) / (norms[:, None] * norms[None, :])
    blocks, K, bound, second, dmean = truncated_coefficients(
        act, m, jnp.sqrt(delta) * norms, off_diagonal_max(R), tol, kmax, degree,
        block_layout(p, n, degree, bool(act.kinks)))
    U = mehler_matrix(blocks, R, K, 1.0 / n, second)
    c0 = jnp.concatenate([blk[0] for blk in blocks])[:p]  # (p, n): E_ξ σ per point
    V = math.sqrt(delta) * dmean[:, None] * Wt
    cross = math.exp(-t) * (c0 @ Xh.T) / n + math.sqrt(delta) * V  # E[σ x(t)ᵀ]
    return U, cross, V, K, bound


def _scale(na: int, nb: int) -> float:
    # rms error of the full-sample mean per unit half difference (see the module text)
    return math.sqrt(na * nb) / (na + nb)


def _relative(a, b, full) -> float:
    # rms error of the full-sample mean from the half difference (see the module text)
    return float(jnp.linalg.norm(a - b) / (2.0 * jnp.linalg.norm(full)))


def _second_moment(X):
    return (X @ X.T) / X.shape[1]


def _score_terms(problem, cross, sigma_hat):
    d = sigma_hat.shape[0]
    C = math.exp(-2 * problem.t) * sigma_hat + problem.delta * jnp.eye(d)
    Cinv = jnp.linalg.inv(C)
    return cross @ Cinv, float(jnp.trace(Cinv) / d)


def held_out_population(problem, act, Wt, X_test, kmax, degree, tol):
    """Ũ, Ṽ, S and Tr C⁻¹/d from held-out points, with their estimated errors.

    Args:
        problem: the :class:`Problem`.
        act: its activation.
        Wt: (p, d) scaled weights W/√d.
        X_test: (d, N) held-out points (columns).
        kmax, degree, tol: Mehler order limit, quadrature degree, truncation tolerance.

    Returns:
        ``(U_pop, V_pop, S, score_trace, info, halves)``; ``info`` holds the Mehler order
        and bound (worst of the two halves), the held-out size and the relative errors;
        ``halves`` is the :class:`HalfDifference`.
    """
    Xa, Xb = _halves(X_test)
    Ua, ca, Va, Ka, ba = timed("held-out half a", _one_half, problem, act, Wt, Xa, kmax,
                               degree, tol)
    Ub, cb, Vb, Kb, bb = timed("held-out half b", _one_half, problem, act, Wt, Xb, kmax,
                               degree, tol)
    na, nb = Xa.shape[1], Xb.shape[1]
    wa, wb = na / (na + nb), nb / (na + nb)
    U, cross, V = wa * Ua + wb * Ub, wa * ca + wb * cb, wa * Va + wb * Vb
    S, score_trace = _score_terms(problem, cross, _second_moment(X_test))
    Sa, ta = _score_terms(problem, ca, _second_moment(Xa))
    Sb, tb = _score_terms(problem, cb, _second_moment(Xb))
    info = dict(population="held_out", held_out=na + nb,
                population_mehler_terms=max(Ka, Kb), population_mehler_bound=max(ba, bb),
                population_error={"U_pop": _relative(Ua, Ub, U), "V_pop": _relative(Va, Vb, V),
                                  "S": _relative(Sa, Sb, S)},
                score_reference="gaussian_surrogate")
    halves = HalfDifference(Ua - Ub, Va - Vb, Sa - Sb, ta - tb, _scale(na, nb))
    return U, V, S, score_trace, info, halves


def held_out_gaussian_equivalent(problem, Wt, X_test):
    """The Gaussian-equivalent Ũ with Σ_t estimated from held-out points.

    Ũ ≃ a_t² W̃ (e^{−2t}Σ̂ + Δ_t I) W̃ᵀ + (s_t² + v_t²) I (+ μ₀² 11ᵀ), Σ̂ the held-out second
    moment; the error is estimated from the two halves as in :func:`held_out_population`.

    Returns:
        ``(U_pop, score_trace, info, halves)``; in ``halves`` (a :class:`HalfDifference`)
        Ṽ and S are exact here (b_t W̃ and b_t W̃/√Δ_t), so their differences are zero.
    """
    c = problem.coefficients
    a, v2, s2, mu0 = float(c.a), float(c.v2), float(c.s2), float(c.mu0)
    p, d = Wt.shape

    def upop(X):
        sig_t = math.exp(-2 * problem.t) * _second_moment(X) + problem.delta * jnp.eye(d)
        return (a**2 * (Wt @ sig_t) @ Wt.T + (s2 + v2) * jnp.eye(p)
                + jnp.full((p, p), mu0**2)), sig_t

    def trace(sig_t):
        return float(jnp.trace(jnp.linalg.inv(sig_t)) / d)

    U, sig_t = upop(X_test)
    Xa, Xb = _halves(X_test)
    (Ua, sa), (Ub, sb) = upop(Xa), upop(Xb)
    err = _relative(Ua, Ub, U)
    info = dict(population="held_out", held_out=X_test.shape[1],
                population_error={"U_pop": err, "V_pop": 0.0, "S": 0.0},
                score_reference="gaussian_surrogate")
    zero = jnp.zeros((p, d))
    halves = HalfDifference(Ua - Ub, zero, zero, trace(sa) - trace(sb),
                            _scale(Xa.shape[1], Xb.shape[1]))
    return U, trace(sig_t), info, halves
