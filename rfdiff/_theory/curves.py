"""Asymptotic learning curves L_train(τ), L_test(τ), L_gen(τ), E_score(τ) for d → ∞.

From M(0) = 0 the flow gives M(τ) = −Δ^{−1/2} b W̃ᵀ f_τ(U) with f_τ(λ) = (1 − e^{−cλτ})/λ,
c = 2Δ_t/ψ_p (THEORY.md §2; docs/learning_curves.md §1), so that

    L_train = 1 − b² (1/d) Tr K g_τ(U),   g_τ = f_{2τ},
    L_test  = 1 + b² (1/d) Tr K f_τ(U) Ũ f_τ(U) − 2b² (1/d) Tr K f_τ(U),
    E_score = (L_test − 1 + Δ E_Σ[1/(e^{−2t}λ + Δ)]) / Δ,

with Ũ = A S + b² K + (s² + v²) I. The matrix functions are Bromwich integrals,

    f_τ(U) = (1/2πi) ∫_Br e^{ατ}/α (U + α/c)⁻¹ dα = Σ_k ω_k (U − z_k)⁻¹,

discretised on a Talbot contour (Weideman–Trefethen parameters): with θ_k the N midpoints
of (−π, π), ẑ(θ) = N(−0.6122 + 0.5017 θ cot(0.6407 θ) + 0.2645 iθ), the nodes are
z_k = −ẑ(θ_k)/(cτ) and the weights ω_k = e^{ẑ_k} ẑ'(θ_k)/(iN ẑ_k) do not depend on τ or c.
Each trace is then a single sum of s(z_k) (one point) or a double sum of F(z_j, z_k) (two
points) from :mod:`.two_point`; no real-axis density is needed. The relative error
of the scalar rule is ~2e-12 at N = 24 for every λ ≥ 0 and τ > 0 (the tests check the
assembled curves against the eigendecomposition of a finite matrix to 1e-9). Nodes and
weights come in conjugate pairs, so only the N/2 points above the axis are solved and the
double sum is 2 Re Σ_{j ≤ N/2} Σ_k.

τ = ∞ uses f = U⁻¹ = R_0, the point z = 0 (weight ½ in two mirrored slots), which lies
left of the spectrum when s_t² > 0; with s_t² = 0 (e.g. a linear activation) U is singular
in the limit and τ = ∞ is refused. τ = 0 gives L_train = L_test = 1 exactly (no points).

Weight decay λ (``Problem.ridge``): the resolvents are those of U + λI and the train loss
gains a two-point term (:mod:`.ridge`); τ = ∞ then needs only s_t² + λ > 0.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._common import Curves, check_converged
from .._common.x64 import float64
from .._model.problem import Problem
from .params import (
    SpectralParams,
    spectral_bound,
    spectral_params,
)
from .noise_samples import sample_pair_table, v_traces
from .ridge import penalty_free_train, solver_params
from .two_point import SYMMETRY_TOL, one_point_core, pair_table, population_trace

__all__ = ["AsymptoticCurves", "ContourPoints", "asymptotic_curves", "talbot_contour",
           "contour_points", "contour_core", "combine_traces", "curves_core", "LossConstants",
           "loss_constants_core", "DEFAULT_NODES"]

#: Default number of Talbot nodes (relative quadrature error ~2e-12).
DEFAULT_NODES = 24

# Optimised Talbot contour (Weideman & Trefethen 2007; Trefethen, Weideman & Schmelzer
# 2006): ẑ(θ) = N(σ + μ θ cot(νθ) + iγθ). Error decays like e^{−1.36 N}.
_SIGMA, _MU, _NU, _GAMMA = -0.6122, 0.5017, 0.6407, 0.2645


class ContourPoints(NamedTuple):
    """Quadrature points of f_τ and g_τ = f_{2τ} on a grid of T times.

    Attributes:
        tau: (T,) times.
        z_f: (T, N) points of f_τ(U) = Σ_k weight_k (U − z_f,k)⁻¹.
        z_g: (T, N) points of g_τ(U) = Σ_k weight_k (U − z_g,k)⁻¹.
        weight: (T, N) complex weights (rows: the Talbot weights for 0 < τ < ∞,
            (½, 0, …, 0, ½) at τ = ∞ with the point z = 0 in the first and last slots,
            and 0 at τ = 0). Unused slots hold a real negative point, left of every
            spectrum, with weight 0. Every row satisfies z_{N−1−k} = conj(z_k) and
            weight_{N−1−k} = conj(weight_k) (up to rounding of the Talbot nodes).
    """

    tau: np.ndarray
    z_f: np.ndarray
    z_g: np.ndarray
    weight: np.ndarray


#: The record of :func:`asymptotic_curves`: the one learning-curves record
#: :class:`rfdiff.Curves` (with ``converged``, ``residual`` and ``nodes`` filled).
AsymptoticCurves = Curves


# ----------------------------------------------------------------------------- contour

def talbot_contour(nodes: int = DEFAULT_NODES):
    """Scaled Talbot points ẑ_k and weights ω_k for τ = 1, c = 1.

    f(λ) = (1 − e^{−cλτ})/λ ≈ Σ_k ω_k / (λ − z_k) with z_k = −ẑ_k/(cτ) (complex sum,
    real result), for λ ≥ 0.

    Args:
        nodes: even number N ≥ 8 of nodes.

    Returns:
        ``(zhat, omega)``, complex NumPy arrays of shape (N,).

    Raises:
        ValueError: if ``nodes`` is not an even integer in [8, 40].
    """
    n = _nodes(nodes)
    theta = -math.pi + (np.arange(n) + 0.5) * 2.0 * math.pi / n
    cot = 1.0 / np.tan(_NU * theta)
    zhat = n * (_SIGMA + _MU * theta * cot + 1j * _GAMMA * theta)
    dzhat = n * (_MU * (cot - _NU * theta / np.sin(_NU * theta) ** 2) + 1j * _GAMMA)
    omega = np.exp(zhat) * dzhat / (1j * n * zhat)
    return zhat, omega


def _nodes(nodes):
    if isinstance(nodes, bool) or not isinstance(nodes, int | np.integer) \
            or nodes % 2 or not 8 <= nodes <= 40:
        # odd N puts a node at θ = 0 (removable 0/0 of θ cot νθ); beyond ~40 the growth
        # of e^{ẑ} costs more in rounding than the rule gains
        raise ValueError(f"nodes must be an even integer in [8, 40], got {nodes!r}")
    return int(nodes)


def _times(tau):
    try:
        arr = np.atleast_1d(np.asarray(tau, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"tau must be real times >= 0, got {tau!r}") from None
    if arr.ndim != 1 or arr.size == 0 or np.any(np.isnan(arr)) or np.any(arr < 0):
        raise ValueError(f"tau must be a non-empty 1-D array of times >= 0, got {tau!r}")
    return arr


def contour_core(tau, rate, pad, zhat, omega):
    """Jit-able quadrature points of f_τ and g_τ on a grid of times (the one home of the rule).

    Args:
        tau: (T,) times τ ≥ 0 (``inf`` allowed).
        rate: c = 2Δ_t/ψ_p.
        pad: a real point left of the spectrum, for unused slots (weight 0).
        zhat, omega: :func:`talbot_contour` (N,).

    Returns:
        ``(z_f, z_g, weight)``, complex arrays of shape (T, N), as in :class:`ContourPoints`.
    """
    tau = jnp.asarray(tau)
    n = zhat.shape[0]
    finite = jnp.isfinite(tau) & (tau > 0)
    safe = jnp.where(finite, tau, 1.0)
    z_f = jnp.where(finite[:, None], -zhat[None, :] / (rate * safe[:, None]), pad + 0j)
    z_g = jnp.where(finite[:, None], z_f / 2.0, pad + 0j)
    weight = jnp.where(finite[:, None], omega[None, :], 0j)
    # τ = ∞: f = U⁻¹ = R(0), split over the first and last slots so that every row stays
    # symmetric under k → N−1−k with conjugation (the solver uses that symmetry)
    ends = ((jnp.arange(n) == 0) | (jnp.arange(n) == n - 1))[None, :]
    inf = jnp.isinf(tau)[:, None]
    z_f = jnp.where(inf & ends, 0j, z_f)
    z_g = jnp.where(inf & ends, 0j, z_g)
    weight = jnp.where(inf & ends, 0.5 + 0j, weight)
    return z_f, z_g, weight


@float64
def contour_points(problem: Problem, tau, nodes: int = DEFAULT_NODES) -> ContourPoints:
    """Quadrature points and weights of f_τ(U) and g_τ(U) on a grid of times.

    Args:
        problem: the model (gives c = 2Δ_t/ψ_p and the spectral scale of the padding).
        tau: times τ ≥ 0 (``inf`` allowed).
        nodes: even number of Talbot nodes.

    Returns:
        :class:`ContourPoints` (NumPy arrays).

    Raises:
        ValueError: for negative or NaN times, or a bad ``nodes``.
    """
    tau = _times(tau)
    zhat, omega = talbot_contour(nodes)
    rate = 2.0 * problem.delta / problem.psi_p
    pad = -1.0 - spectral_bound(spectral_params(problem))
    z_f, z_g, weight = contour_core(jnp.asarray(tau), rate, pad, jnp.asarray(zhat),
                                    jnp.asarray(omega))
    return ContourPoints(tau, z_f, z_g, weight)


# ----------------------------------------------------------------------------- assembly

def combine_traces(problem: Problem, points: ContourPoints, s_f, s_g, F_pop,
                   F_I=None) -> Curves:
    """Assemble the curves from trace values at the contour points.

    Any source of traces may be used: the asymptotic solutions, or the traces of one
    finite Gaussian-equivalent matrix (which checks the contour and the loss formulas
    separately from the theory).

    Args:
        problem: the model.
        points: from :func:`contour_points`.
        s_f: (T, N) values of s(z) = (1/p) Tr K R_z at ``points.z_f``.
        s_g: (T, N) values of s at ``points.z_g``.
        F_pop: (T, N, N) values of (1/d) Tr K R_{z_j} Ũ R_{z_k} at pairs of ``points.z_f``.
        F_I: (T, N, N) values of (1/d) Tr K R_{z_j} R_{z_k}; needed only when
            ``problem.ridge`` > 0 (R is then the resolvent of U + λI).

    Returns:
        :class:`rfdiff.Curves` (NumPy arrays).

    Raises:
        ValueError: if the shapes of the traces do not match the points, or ``F_I`` is
            missing with ``problem.ridge`` > 0.
    """
    T, N = points.z_f.shape
    if F_I is None and problem.ridge > 0:
        raise ValueError(f"F_I is needed for ridge = {problem.ridge!r} > 0")
    F_I = np.zeros((T, N, N)) if F_I is None else F_I
    for name, arr, shape in (("s_f", s_f, (T, N)), ("s_g", s_g, (T, N)),
                             ("F_pop", F_pop, (T, N, N)), ("F_I", F_I, (T, N, N))):
        if np.shape(arr) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {np.shape(arr)}")
    with jax.enable_x64(True):
        out = _combine(_loss_constants(problem), jnp.asarray(points.weight),
                       jnp.asarray(s_f), jnp.asarray(s_g), jnp.asarray(F_pop),
                       F_I=jnp.asarray(F_I))
        train, test, score = (np.asarray(v) for v in out)
    return Curves(np.asarray(points.tau), train, test, test - train, score)


class LossConstants(NamedTuple):
    """The constants of the loss assembly (a pytree of scalars).

    Attributes:
        psi_p: ψ_p.
        b2: b_t².
        delta: Δ_t.
        score_trace: E_Σ[1/(e^{−2t}λ + Δ_t)] = Tr C⁻¹/d (the score-error offset).
    """

    psi_p: jax.Array
    b2: jax.Array
    delta: jax.Array
    score_trace: jax.Array
    ridge: jax.Array


def loss_constants_core(psi_p, b2, t, atoms, weights, ridge=0.0) -> LossConstants:
    """Jit-able :class:`LossConstants` (the one home of the score-error offset)."""
    delta = -jnp.expm1(-2.0 * t)
    trace = jnp.sum(weights / (jnp.exp(-2.0 * t) * atoms + delta), axis=-1)
    return LossConstants(jnp.asarray(psi_p), jnp.asarray(b2), delta, trace,
                         jnp.asarray(ridge, jnp.float64))


def _loss_constants(problem):
    f = functools.partial(jnp.asarray, dtype=jnp.float64)
    return loss_constants_core(f(problem.psi_p), f(float(problem.coefficients.b) ** 2),
                               f(problem.t), f(problem.spectrum.atoms),
                               f(problem.spectrum.weights), f(problem.ridge))


def _combine(C, weight, s_f, s_g, F_pop, left=None, factor=1.0, F_I=None):
    """Loss assembly from the noise-averaged traces (s, F): V = b W̃, so every V-trace is
    b² times a K-trace (:func:`_assemble`)."""
    lin_f = C.b2 * C.psi_p * s_f
    return _assemble(C, weight, lin_f, C.b2 * C.psi_p * s_g, C.b2 * F_pop, left, factor,
                     None if F_I is None else C.b2 * F_I)


def _assemble(C, weight, lin_f, own_g, H_pop, left=None, factor=1.0, H_I=None):
    """Loss assembly from the V-traces (:mod:`.noise_samples`): ``lin_f`` = (1/d) Tr Vᵀ R Ṽ
    at the points of f, ``own_g`` = (1/d) Tr Vᵀ R V at those of g, and the tables
    ``H_pop``, ``H_I`` = (1/d) Tr Vᵀ R_j Y R_k V (Y = Ũ, I; H_I needed when C.ridge > 0) of
    shape (T, M, N) with left weights ``left`` (T, M) (default: all N weights, M = N);
    ``factor`` multiplies the double sums."""
    left = weight if left is None else left
    # the complex sums are real up to rounding: nodes and weights come in conjugate pairs
    tr_lin = jnp.real(jnp.sum(weight * lin_f, axis=-1))             # (1/d) Tr Vᵀ f Ṽ
    tr_own = jnp.real(jnp.sum(weight * own_g, axis=-1))             # (1/d) Tr Vᵀ g V
    quad = factor * jnp.real(jnp.einsum("tj,tjk,tk->t", left, H_pop, weight))  # Tr VᵀfŨfV/d
    train = 1.0 - tr_own
    if H_I is not None:
        tr_f2 = factor * jnp.real(jnp.einsum("tj,tjk,tk->t", left, H_I, weight))  # Tr Vᵀf²V/d
        train = penalty_free_train(train, C.ridge, 1.0, tr_f2)
    test = 1.0 + quad - 2.0 * tr_lin
    score = (test - 1.0 + C.delta * C.score_trace) / C.delta
    return train, test, score


def _mirror(sol):
    """Full rows from the first half: slot N−1−k holds the conjugate of slot k."""
    def full(v):
        lower = jnp.conj(v[:, ::-1]) if jnp.iscomplexobj(v) else v[:, ::-1]
        return jnp.concatenate([v, lower], axis=1)
    return jax.tree_util.tree_map(full, sol)


def _core_mirrored(P: SpectralParams, C: LossConstants, z_f, z_g, weight):
    """Jit-able, for rows with slot N−1−k the conjugate of slot k (:func:`contour_points`):
    one-point solves at the first half of the nodes only, and the (first half) × (all)
    two-point table; Σ_jk ω_j ω_k F(z_j, z_k) = 2 Re Σ_{j < N/2} Σ_k (...).
    Returns (train, test, score, converged, residual). Resolvents are those of U + λI
    (λ = C.ridge); the population matrix Ũ keeps s_t²."""
    half = z_f.shape[1] // 2
    if P.inv_m is None:
        P_solve, shift = solver_params(P, C.ridge), 0.0
    else:
        # s_t² enters the covariances of U_m, not only its shift: the resolvent of
        # U_m + λI at z is that of U_m at z − λ
        P_solve, shift = P, C.ridge
    sol_f = _mirror(one_point_core(P_solve, z_f[:, :half] - shift))
    sol_g = _mirror(one_point_core(P_solve, z_g[:, :half] - shift))
    a = jax.tree_util.tree_map(lambda v: v[:, :half, None], sol_f)
    b = jax.tree_util.tree_map(lambda v: v[:, None, :], sol_f)
    if P.inv_m is None:
        F = pair_table(P_solve, a, b)  # (F_K, F_S, F_I), each (T, half, N)
        H_pop, H_I = P.b2 * population_trace(P, *F), P.b2 * F[2]
    else:
        *F, H_pop, H_I = sample_pair_table(P, a, b)
        F = F + [H_pop, H_I]  # every table enters the symmetry check
    lin_f, _ = v_traces(P_solve, sol_f)
    _, own_g = v_traces(P_solve, sol_g)
    train, test, score = _assemble(C, weight, lin_f, own_g, H_pop, left=weight[:, :half],
                                   factor=2.0, H_I=H_I)
    # two-point residual: the formulas are symmetric only at exact one-point solutions, so
    # compare the square (half × half) block with its transpose
    defect = functools.reduce(jnp.maximum, [
        jnp.max(jnp.abs(f[:, :, :half] - jnp.swapaxes(f[:, :, :half], 1, 2))
                / jnp.abs(f[:, :, :half]), axis=(1, 2)) for f in F])
    residual = jnp.maximum(jnp.maximum(jnp.max(sol_f.residual, axis=1),
                                       jnp.max(sol_g.residual, axis=1)), defect)
    converged = (jnp.all(sol_f.converged, axis=1) & jnp.all(sol_g.converged, axis=1)
                 & (defect <= SYMMETRY_TOL))
    finite = jnp.isfinite(train) & jnp.isfinite(test) & jnp.isfinite(score)
    residual = jnp.where(jnp.isfinite(residual), residual, jnp.inf)
    return train, test, score, converged & finite, residual


def curves_core(P: SpectralParams, C: LossConstants, tau, zhat, omega):
    """Jit-able curves of one parameter point on a grid of times τ ≥ 0 (``inf`` allowed).

    Args:
        P: spectral parameters; C: loss constants (both may be traced).
        tau: (T,) times.
        zhat, omega: :func:`talbot_contour`.

    Returns:
        ``(train, test, score, converged, residual)``, arrays of shape (T,).

    With ``P.inv_m`` given (m noise samples) the traces are those of
    :mod:`.noise_samples`, in which V_m is correlated with U_m; τ = ∞ then needs
    C.ridge > 0 (U_m has an atom at 0 once ψ_p > mψ_n, and eigenvalues near 0 around
    ψ_p = mψ_n): without it those times are not finite and are flagged.
    """
    pad = -1.0 - spectral_bound(P)
    z_f, z_g, weight = contour_core(tau, 2.0 * C.delta / C.psi_p, pad, zhat, omega)
    return _core_mirrored(P, C, z_f, z_g, weight)


_curves_jit = jax.jit(curves_core)


# ----------------------------------------------------------------------------- public API

@float64
def asymptotic_curves(problem: Problem, tau, *, nodes: int = DEFAULT_NODES,
                      throw: bool = False, ridge: float | None = None) -> Curves:
    """Learning curves at training times τ in the limit d, p, n → ∞ (ψ_p, ψ_n fixed).

    The asymptotic twin of ``learning_curves(gradient_flow(finite_size_instance(...)), tau)``
    for M(0) = 0, in the same paper time τ = kη/d² (weights relax as e^{−cλτ}, losses as
    e^{−2cλτ}, c = 2Δ_t/ψ_p). Non-odd activations: the rank-one μ₀² 11ᵀ part of U and Ũ
    changes these normalised traces by O(1/d) and O(τ/d) only and is left out
    (docs/learning_curves.md §6).

    Args:
        problem: the model (ψ_p, ψ_n, t, activation, ρ_Σ).
        tau: scalar or 1-D array of times τ ≥ 0; ``inf`` gives the end of training (needs
            s_t² + λ > 0; with finitely many noise samples, λ > 0).
        nodes: even number of Talbot nodes in [8, 40] (default 24: relative quadrature
            error ~2e-12; 16 gives ~1e-7).
        throw: raise instead of warning when a time did not converge.
        ridge: weight decay λ ≥ 0; None (default) takes ``problem.ridge``. The train loss is
            reported without the penalty term.

    Returns:
        :class:`rfdiff.Curves` with ``converged`` (per time: every one-point solve at the
        nodes of that time converged and every two-point value passed its symmetry check),
        ``residual`` (per time: the largest relative residual of the one-point equations
        and of the two-point symmetry) and ``nodes`` filled; ``.curves`` is the record
        itself. Values at times that did not converge are returned as computed (not
        replaced by NaN) and a RuntimeWarning names them.

    Raises:
        ValueError: for a bad problem, negative/NaN/empty ``tau``, ``tau = inf`` with
            s_t² + λ = 0 (with ``noise_samples`` < ∞: λ = 0), a bad ``nodes`` or a
            negative ``ridge``, naming the argument and the value.
        NotConvergedError: with ``throw=True``, when a time did not converge.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    if ridge is not None:
        problem = dataclasses.replace(problem, ridge=ridge)  # validates it
    tau = _times(tau)
    nodes = _nodes(nodes)
    P = spectral_params(problem)
    if np.any(np.isinf(tau)) and not float(P.s2) + problem.ridge > \
            1e-12 * float(spectral_bound(P)):
        raise ValueError(
            f"tau = inf needs s_t^2 > 0 (U is singular in the limit), got s_t^2 = "
            f"{float(P.s2)!r} for activation {problem.activation.name!r}; use a large finite tau")
    if np.any(np.isinf(tau)) and P.inv_m is not None and not problem.ridge > 0:
        raise ValueError(
            f"tau = inf with noise_samples = {problem.noise_samples!r} needs ridge > 0 "
            f"(U_m has eigenvalues at or near 0 for psi_p >= m psi_n), got ridge = "
            f"{problem.ridge!r}; use ridge > 0 or a large finite tau")
    # pad the grid to a power of two so that few array shapes are ever compiled
    T = tau.size
    padded = np.concatenate([tau, np.ones(_bucket(T) - T)])
    zhat, omega = talbot_contour(nodes)
    train, test, score, converged, residual = _curves_jit(
        P, _loss_constants(problem), jnp.asarray(padded), jnp.asarray(zhat),
        jnp.asarray(omega))
    train, test, score, converged, residual = (np.asarray(v)[:T] for v in
                                               (train, test, score, converged, residual))
    converged = converged.astype(bool)
    check_converged(converged, what="asymptotic_curves", where=tau, throw=throw, stacklevel=4)
    return Curves(tau, train, test, test - train, score, converged, residual, nodes)


def _bucket(n):
    return max(8, 1 << (n - 1).bit_length())
