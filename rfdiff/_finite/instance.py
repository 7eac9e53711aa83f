"""Finite-size instances: the matrices U, V (train) and Ũ, Ṽ (population) of one draw.

A draw fixes W ∈ R^{p×d} (N(0,1) entries) and n training points x_ν ~ N(0, Σ), Σ diagonal
with the eigenvalues of :meth:`DataSpectrum.eigenvalues` (W is rotation invariant, so a
diagonal Σ loses no generality). With W̃ = W/√d, x_ν(t) = e^{−t}x_ν + √Δ_t ξ and
σ_ν = σ(W̃ x_ν(t)):

    U = (1/n) Σ_ν E_ξ[σ_ν σ_νᵀ],   V = (1/n) Σ_ν E_ξ[σ_ν ξᵀ],

and Ũ, Ṽ are the same expectations under the population. Three constructions share one
interface (THEORY.md §3, §6):

- ``exact``: the K = ∞ model without Monte Carlo. Diagonal entries by 1-D quadrature;
  off-diagonal entries by the Mehler expansion in the correlation R_ij of the noise
  projections, U_ij = Σ_k R_ij^k (1/n) Σ_ν c_k(i,ν) c_k(j,ν) with normalised Hermite
  coefficients c_k(i,ν) = E_u[h_k(u) σ(m_iν + ς_i u)], h_k = He_k/√k!. The series is
  truncated at the first order K whose tail bound max|R|^{K+1} max_i T_i is below
  ``mehler_tol``, where T_i = (1/n)Σ_ν Σ_{k>K} c_k(i,ν)² = (1/n)Σ_ν E σ² − Σ_{k≤K} (...)
  is computed from the same coefficients (Cauchy–Schwarz makes this a rigorous bound).
  V by Stein's lemma: V = √Δ diag((1/n)Σ_ν E σ'(m_iν + ς_i u)) W̃.
- ``monte_carlo``: K noise draws per training point (the finite-noise-sample model, a
  different model from K = ∞ once p ≳ nK); population matrices are the exact ones. With
  ``Problem.noise_samples`` = m finite this is the problem's own model (K = m).
- ``gaussian_equivalent``: U ≃ (1/n) G Gᵀ + b_t² W̃W̃ᵀ + s_t² I (+ μ₀² 11ᵀ),
  G = e^{−t} a_t W̃ X + v_t Ω; V ≃ b_t W̃; Ũ ≃ a_t² W̃ Σ_t W̃ᵀ + (s_t² + v_t²) I (+ μ₀² 11ᵀ).
  With m = ``Problem.noise_samples`` finite: σ_νj ≃ g_ν + b_t W̃ξ_νj + s_t ζ_νj (g_ν the
  columns of G, ξ, ζ standard Gaussian, fixed), U ≃ (1/(nm)) Σ_νj σ_νj σ_νjᵀ (+ μ₀² 11ᵀ)
  and V ≃ (1/(nm)) Σ_νj σ_νj ξ_νjᵀ; the population matrices are unchanged.

For the score error E_score = (1/d) E_{x∼P_t}‖M σ(W̃x) + C⁻¹x‖², C = e^{−2t}Σ + Δ_t I, an
instance also carries S = E[σ(W̃x) xᵀ] C⁻¹ (p×d) and Tr(C⁻¹)/d.

W, the training points X and a held-out sample X_test may be given instead of drawn (any
data distribution); the population matrices then come from X_test, with their estimated
statistical error, and the score error refers to the Gaussian surrogate of the data (see
:mod:`rfdiff._finite.given`).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._common import Status
from .._common.memory import check_fits
from .._model.problem import Problem
from .._common.validation import positive, positive_int, seed_int
from .._common.x64 import float64
from .mehler import (_coeff_kernel, block_layout, check_truncation,  # noqa: F401
                     mehler_matrix, off_diagonal_max, truncated_coefficients)
from .timing import timed
from .given import (HalfDifference, given_arrays, held_out_gaussian_equivalent,
                    held_out_population)

__all__ = ["Instance", "finite_size_instance", "draw"]

METHODS = ("exact", "monte_carlo", "gaussian_equivalent")


@dataclasses.dataclass(frozen=True)
class Instance:
    """Matrices of one finite-size draw.

    Attributes:
        problem: the :class:`Problem`.
        d, p, n: sizes.
        method: ``"exact"``, ``"monte_carlo"`` or ``"gaussian_equivalent"``.
        W: (p, d) feature weights (unscaled, N(0,1) entries).
        X: (d, n) training points.
        sigma_eigs: (d,) eigenvalues of the diagonal Σ.
        U, V: train matrices (p×p, p×d).
        U_pop, V_pop: population matrices (p×p, p×d).
        S: (p, d) score cross term E[σ(W̃x) xᵀ] C⁻¹ under P_t.
        score_trace: Tr(C⁻¹)/d = E‖s*(x)‖²/d.
        info: construction details (Mehler terms and truncation bound, noise draws).
        half_difference: with a held-out population (``X_test``), the
            :class:`rfdiff._finite.given.HalfDifference` of its two halves, from which
            :func:`rfdiff.tools.held_out_error` estimates the statistical error of the
            losses; None otherwise.
    """

    problem: Problem
    d: int
    p: int
    n: int
    method: str
    W: jax.Array
    X: jax.Array
    sigma_eigs: jax.Array
    U: jax.Array
    V: jax.Array
    U_pop: jax.Array
    V_pop: jax.Array
    S: jax.Array
    score_trace: float
    info: dict
    half_difference: HalfDifference | None = None


@float64
def draw(problem: Problem, d: int, seed: int = 0):
    """Draw (W, X, Σ eigenvalues) for a problem at dimension d from an explicit seed.

    The seed's key is split in two: one stream for W, one for X. The same seed therefore
    gives the same W and X here and in :func:`finite_size_instance`. The arrays are
    NumPy float64 arrays.

    Args:
        problem: the :class:`Problem`; p, n = ``problem.sizes(d)`` and the eigenvalues of
            the diagonal Σ come from ``problem.spectrum``.
        d: input dimension (a positive integer).
        seed: integer seed of ``jax.random.PRNGKey``.

    Returns:
        The tuple ``(W, X, sigma_eigs)``, with W of shape (p, d) with N(0, 1) entries, X
        of shape (d, n) whose columns are the training points x_ν ~ N(0, Σ), and
        sigma_eigs of shape (d,), the eigenvalues of Σ (see
        :meth:`DataSpectrum.eigenvalues`).

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem` or ``d`` is not a positive
            integer, naming the argument and the value; if ``seed`` is not an integer
            that fits a signed 64-bit integer.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    d = positive_int("d", d)
    seed = seed_int("seed", seed)
    p, n = problem.sizes(d)
    kw, kx = jax.random.split(jax.random.PRNGKey(seed))
    lam = jnp.asarray(problem.spectrum.eigenvalues(d))
    W = jax.random.normal(kw, (p, d), dtype=jnp.float64)
    X = jnp.sqrt(lam)[:, None] * jax.random.normal(kx, (d, n), dtype=jnp.float64)
    return W, X, lam


# ----------------------------------------------------------------------------- helpers

def _estimate_bytes(method, p, d, n, kmax, degree, noise_draws, chunk_rows):
    q = 2 * degree  # kinked activations use two panels
    mats = 6 * p * p + 4 * p * d + d * n
    if method == "exact":
        # the coefficient table of all orders (row blocks, the last one padded), the
        # quadrature sub-chunk, R (padded to whole blocks) and the blocks before assembly,
        # and, while the Mehler sum runs, the products of all orders of one block pair
        _, b, nb = block_layout(p, n, degree, True)
        buf = ((kmax + 1) * nb * b * n + 8 * chunk_rows * n * q + 3 * (nb * b) ** 2
               + (kmax + 2) * b * b)
    elif method == "monte_carlo":
        buf = 3 * p * min(n * noise_draws, 2**14) + (kmax + 1) * p
    else:
        buf = 3 * p * n
    return 8.0 * (mats + buf)


# ----------------------------------------------------------------------------- builders

def _population(problem, act, Wt, lam, kmax, degree, tol):
    """Exact Ũ, Ṽ, S and Tr C⁻¹/d (Mehler in the correlations of W̃ x_t)."""
    t, delta = problem.t, problem.delta
    cvec = math.exp(-2 * t) * lam + delta  # eigenvalues of C (Σ diagonal)
    p = Wt.shape[0]
    # one column per row (the population has no ν), in the blocks of the Mehler sum
    layout = block_layout(p, 1, degree, bool(act.kinks))
    R, sd = timed("population correlations", _correlations, Wt, jnp.asarray(cvec),
                  layout[1] * layout[2])
    blocks, K, bound, second, dmean = timed(
        "population coefficients", truncated_coefficients, act, jnp.zeros((p, 1)), sd,
        off_diagonal_max(R), tol, kmax, degree, layout)
    U_pop = timed("population Mehler sum", mehler_matrix, blocks, R, K, 1.0, second)
    c1 = jnp.concatenate([blk[1, :, 0] for blk in blocks])[:p]
    V_pop = math.sqrt(delta) * dmean[:, None] * Wt
    # S_i = E[σ(h_i) h_i]/C_ii · w̃_i (Gaussian regression of x on h_i); E[σ(h)h] = sd·c_1
    S = (c1 / sd)[:, None] * Wt
    score_trace = float(jnp.mean(1.0 / cvec))
    return U_pop, V_pop, S, score_trace, K, bound


@functools.partial(jax.jit, static_argnums=2)
def _correlations(Wt, cvec, size):
    """Correlations and standard deviations of the preactivations w̃_i·z, z ~ N(0, diag(cvec)).

    The (p, p) correlations come with zero rows and columns up to ``size``, the padded
    size of the Mehler blocks (written in the same pass, not copied later).
    """
    cov = (Wt * cvec[None, :]) @ Wt.T
    sd = jnp.sqrt(jnp.diag(cov))
    pad = size - Wt.shape[0]
    return jnp.pad(cov / (sd[:, None] * sd[None, :]), ((0, pad), (0, pad))), sd


def _exact_train(problem, act, Wt, X, kmax, degree, tol):
    """Exact U, V: Hermite tables of the n training points, then the Mehler sum."""
    t, delta = problem.t, problem.delta
    p, d, n = Wt.shape[0], Wt.shape[1], X.shape[1]
    # the correlations of the noise projections (W̃ ξ), first: their largest entry decides
    # how many orders the coefficient pass needs
    layout = block_layout(p, n, degree, bool(act.kinks))
    R, norms = timed("train correlations", _correlations, Wt, jnp.ones(d, Wt.dtype),
                     layout[1] * layout[2])
    m = math.exp(-t) * (Wt @ X)  # (p, n) clean part of the preactivations
    std = jnp.sqrt(delta) * norms  # (p,) noise std of the preactivations
    blocks, K, bound, second, dmean = timed(
        "train coefficients", truncated_coefficients, act, m, std, off_diagonal_max(R), tol,
        kmax, degree, layout)
    del m
    # the diagonal (1/n) Σ_ν E σ² is placed by the Mehler assembly
    U = timed("train Mehler sum", mehler_matrix, blocks, R, K, 1.0 / n, second)
    V = timed("train V", lambda: math.sqrt(delta) * dmean[:, None] * Wt)
    return U, V, K, bound


@functools.lru_cache(maxsize=None)
def _mc_kernel(act):
    def block(Wt, Xt, Xi):
        F = act(Wt @ Xt)
        return F @ F.T, F @ Xi.T
    return jax.jit(block)


def _monte_carlo_train(problem, act, Wt, X, key, draws):
    t, delta = problem.t, problem.delta
    p, d = Wt.shape
    n = X.shape[1]
    U = jnp.zeros((p, p))
    V = jnp.zeros((p, d))
    kernel = _mc_kernel(act)
    per_block = max(1, 2**14 // n)  # noise draws per block (bounded buffer p × n·per_block)
    done = 0
    while done < draws:
        m = min(per_block, draws - done)
        key, sub = jax.random.split(key)
        xi = jax.random.normal(sub, (d, n * m), dtype=jnp.float64)
        Xt = math.exp(-t) * jnp.tile(X, (1, m)) + math.sqrt(delta) * xi
        dU, dV = kernel(Wt, Xt, xi)
        U, V = U + dU, V + dV
        done += m
    return U / (n * draws), V / (n * draws)


def _gaussian_equivalent(problem, Wt, X, lam, key):
    c = problem.coefficients
    t = problem.t
    a, b, v2, s2, mu0 = (float(c.a), float(c.b), float(c.v2), float(c.s2), float(c.mu0))
    p, d = Wt.shape
    n = X.shape[1]
    omega = jax.random.normal(key, (p, n), dtype=jnp.float64)
    G = math.exp(-t) * a * (Wt @ X) + math.sqrt(max(v2, 0.0)) * omega
    ones = jnp.full((p, p), mu0**2)
    V_pop = b * Wt
    if math.isinf(problem.noise_samples):
        U = G @ G.T / n + b**2 * (Wt @ Wt.T) + s2 * jnp.eye(p) + ones
        V = V_pop
    else:
        U, V = _ge_samples(G, Wt, b, math.sqrt(max(s2, 0.0)), problem.noise_samples,
                           jax.random.fold_in(key, 1))
        U = U + ones
    sig_t = math.exp(-2 * t) * lam + problem.delta
    U_pop = a**2 * (Wt * sig_t[None, :]) @ Wt.T + (s2 + v2) * jnp.eye(p) + ones
    S = V_pop / math.sqrt(problem.delta)
    return U, V, U_pop, V_pop, S, float(jnp.mean(1.0 / sig_t))


@jax.jit
def _ge_draw(G, Wt, b, s, key):
    """One noise draw per point: features σ = g + bW̃ξ + sζ (p × n), their Gram and σξᵀ."""
    kx, kz = jax.random.split(key)
    xi = jax.random.normal(kx, (Wt.shape[1], G.shape[1]), dtype=jnp.float64)
    F = G + b * (Wt @ xi) + s * jax.random.normal(kz, G.shape, dtype=jnp.float64)
    return F @ F.T, F @ xi.T


def _ge_samples(G, Wt, b, s, m, key):
    """Gaussian-equivalent U, V of the m-sample model: sums over m fixed draws per point."""
    p, d = Wt.shape
    n = G.shape[1]
    U, V = jnp.zeros((p, p)), jnp.zeros((p, d))
    for j in range(m):
        dU, dV = _ge_draw(G, Wt, b, s, jax.random.fold_in(key, j))
        U, V = U + dU, V + dV
    return U / (n * m), V / (n * m)


@float64
def finite_size_instance(problem: Problem, d: int | None, seed: int = 0,
                         method: str = "exact", *, X=None, W=None, X_test=None,
                         noise_draws: int | None = None, mehler_tol: float = 1e-10,
                         max_mehler_terms: int = 40, degree: int | None = None,
                         memory_limit: int | None = None, throw: bool = False) -> Instance:
    """Draw (or take) W and the training set and build U, V, Ũ, Ṽ, S for a finite size.

    Args:
        problem: the :class:`Problem` (ψ_p, ψ_n, t, activation, ρ_Σ).
        d: input dimension; p = round(ψ_p d), n = round(ψ_n d). May be None when an array
            is given (d is then its number of columns); when both are given they must agree.
        seed: seed of the draw of W, X (and of the noise for Monte Carlo / Ω for the
            Gaussian-equivalent matrices). The same seed gives the same W and X for every
            method, so methods can be compared on one draw.
        method: ``"exact"``, ``"monte_carlo"`` or ``"gaussian_equivalent"``.
        X: training points, shape (n, d), one data point per row, any distribution;
            default: drawn from N(0, diag(ρ_Σ eigenvalues)) with the seed. Used as given
            (no centring).
        W: feature weights, shape (p, d), N(0, 1)-scaled entries (the model uses W/√d);
            default: drawn with the seed. Passing the arrays that :func:`draw` gives for
            the seed (X as ``draw(...)[1].T``) reproduces the drawn instance bit for bit.
        X_test: held-out points, shape (N, d), N ≥ 10, from the law of X (needs X). With
            it Ũ, Ṽ, S are held-out averages (exact in the noise), ``info`` reports
            ``population="held_out"``, ``held_out`` (N), ``population_error`` (relative
            errors of Ũ, Ṽ, S estimated from the two halves of X_test) and
            ``score_reference="gaussian_surrogate"`` (the score error is measured against
            the score of the Gaussian with the data's second moment); the instance's
            ``half_difference`` gives the statistical error of its losses
            (:func:`rfdiff.tools.held_out_error`). Without it the
            population is the problem's Gaussian law in closed form
            (``population="gaussian"``, ``score_reference="exact"``).
        noise_draws: K, noise draws per training point (``monte_carlo`` only). None
            (default): ``problem.noise_samples`` when it is finite, else 100. With a finite
            ``problem.noise_samples`` a different K is refused (it would be another model).
        mehler_tol: bound on the absolute truncation error of every off-diagonal entry
            (``exact``; population matrices also for ``monte_carlo``).
        max_mehler_terms: largest Mehler order considered; if the bound is not met there,
            ``info["mehler_bound"]`` reports what was achieved (see ``throw``).
        degree: quadrature degree (default 200 for smooth activations, 64 per panel with
            kinks).
        memory_limit: bytes allowed (default 80 % of physical memory).
        throw: raise :class:`rfdiff.NotConvergedError` when a Mehler tail bound misses
            ``mehler_tol``. By default ``info["mehler_status"]`` records it
            (``"not_converged"``), with a RuntimeWarning naming the remedy when the bound
            exceeds 1e-6 of the matrix's mean diagonal.

    Returns:
        :class:`Instance`; with X given, ``info["data_kappa"]`` is Tr Σ̂/d of the training
        points (compare with ``problem.spectrum.kappa``, which sets the coefficients).

    Raises:
        ValueError: for a bad size, method or tolerance; for ``method="exact"`` with a
            finite ``problem.noise_samples`` (exact is the m = ∞ model), or
            ``noise_draws`` that disagrees with it; for bad arrays (not numeric or
            2-D, NaN or infinite entries, d, n or p that disagree with d or
            ``problem.sizes(d)``, constant data, a zero row of W, X_test without X or with
            fewer than 10 rows), naming the argument; or (MemoryPlanError, a ValueError)
            when the estimated peak memory exceeds ``memory_limit``.
        NotConvergedError: with ``throw=True``, see above.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    if d is not None:
        d = positive_int("d", d)
    d, W_given, X_given, X_test = given_arrays(problem, d, X, W, X_test)
    d = positive_int("d", d)
    seed = seed_int("seed", seed)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    m = problem.noise_samples
    if method == "exact" and not math.isinf(m):
        raise ValueError(f"method='exact' builds the noise-averaged U (noise_samples = inf), "
                         f"got noise_samples = {m!r}; use 'monte_carlo' or "
                         "'gaussian_equivalent'")
    if noise_draws is None:
        noise_draws = 100 if math.isinf(m) else m
    noise_draws = positive_int("noise_draws", noise_draws)
    if not math.isinf(m) and noise_draws != m:
        raise ValueError(f"noise_draws must equal problem.noise_samples = {m!r} (or be "
                         f"omitted), got {noise_draws!r}")
    positive("mehler_tol", mehler_tol)
    kmax = positive_int("max_mehler_terms", max_mehler_terms)
    act = problem.activation
    degree = degree or (64 if act.kinks else 200)
    p, n = problem.sizes(d)
    # the held-out halves take the place of the training points in the buffers
    cols = n if X_test is None else max(n, X_test.shape[1] - X_test.shape[1] // 2)
    # rows of the quadrature sub-chunk (a bounded (rows, n, nodes) buffer)
    chunk = block_layout(p, cols, degree, True)[0]
    check_fits(f"finite-size instance (method={method}, d={d}, p={p}, n={n})",
               _estimate_bytes(method, p, d, cols, kmax, degree, noise_draws, chunk),
               memory_limit)
    W, X, lam = timed("draw", draw, problem, d, seed)
    if W_given is not None:
        W = W_given
    if X_given is not None:
        X = X_given
    Wt = W / math.sqrt(d)
    # a stream of its own: fold_in(key, 1) would equal split(key)[1], the data stream
    noise_key = jax.random.fold_in(jax.random.PRNGKey(seed), 0x5EED)
    info: dict = {"method": method}
    halves = None
    if method == "gaussian_equivalent":
        U, V, U_pop, V_pop, S, score_trace = _gaussian_equivalent(problem, Wt, X, lam, noise_key)
        if not math.isinf(m):
            info.update(noise_draws=m)
        if X_test is not None:
            U_pop, score_trace, extra, halves = held_out_gaussian_equivalent(problem, Wt,
                                                                             X_test)
            info.update(extra)
    else:
        if X_test is None:
            U_pop, V_pop, S, score_trace, Kp, bp = _population(problem, act, Wt, lam, kmax,
                                                               degree, mehler_tol)
            info.update(population_mehler_terms=Kp, population_mehler_bound=bp)
            status = check_truncation("population", bp, mehler_tol, kmax,
                                      float(jnp.mean(jnp.diag(U_pop))), throw=throw)
        else:
            U_pop, V_pop, S, score_trace, extra, halves = held_out_population(
                problem, act, Wt, X_test, kmax, degree, mehler_tol)
            info.update(extra)
            status = Status.SUCCESSFUL
        if method == "exact":
            U, V, K, bound = _exact_train(problem, act, Wt, X, kmax, degree, mehler_tol)
            info.update(mehler_terms=K, mehler_bound=bound)
            status = max(status, check_truncation("train", bound, mehler_tol, kmax,
                                                  float(jnp.mean(jnp.diag(U))),
                                                  throw=throw))
        else:
            U, V = _monte_carlo_train(problem, act, Wt, X, noise_key, noise_draws)
            info.update(noise_draws=noise_draws)
        info.update(mehler_status=status.name.lower())
    if X_test is None and (X_given is not None or W_given is not None):
        info.update(population="gaussian", score_reference="exact")
    if X_given is not None:
        info.update(data_kappa=float(np.mean(X_given**2)))
    return Instance(problem, d, p, n, method, W, X, lam, U, V, U_pop, V_pop, S,
                    score_trace, info, halves)
