"""Asymptotic resolvent of U: the (q, r, s) equations of THEORY.md §4 at complex z.

Unknowns (per p, at spectral parameter z):

    q = (1/p) Tr (U − z)⁻¹,  s = (1/p) Tr W̃W̃ᵀ (U − z)⁻¹,  r = (1/p) Tr W̃ΣW̃ᵀ (U − z)⁻¹.

With A = a_t² e^{−2t} and E_Σ the average over the data spectrum ρ_Σ:

    ŝ = b_t² ψ_p + 1/q,   D = 1 + (ψ_p/ψ_n)(A r + v_t² q),   r̂ = ψ_p A / D,
    s = E_Σ[1/(ŝ + λ r̂)],   r = E_Σ[λ/(ŝ + λ r̂)],
    0 = ψ_p (s_t² − z) + ψ_p v_t²/D + (1 − ψ_p)/q − s/q².

s is an explicit function of (q, r), so the solver iterates on the pair x = (q, r) with the
residuals

    F_q = q² [ψ_p (s_t² − z) + ψ_p v_t²/D] + (1 − ψ_p) q − s(q, r),
    F_r = r − E_Σ[λ/(ŝ + λ r̂)]

(F_q is the last equation times q², which keeps it finite at the atom of U, where q has a
pole). Both residuals are holomorphic in (q, r, z), so complex Newton with the holomorphic
Jacobian is Newton on the real/imaginary pairs.

Branch. The physical solution is the Stieltjes transform of a probability measure: it is
analytic in the upper half-plane, q(z) ~ −1/z at large |z|, and Im q > 0, Im r > 0 when
Im z > 0 (Herglotz). The solver starts every point at z = λ + iε₀ with ε₀ far above the
spectrum, where the large-|z| expansion is an excellent Newton start and the solution is
unique near it, then follows the solution down to ε_final with adaptive geometric steps in
ε (an Euler tangent predictor and a Newton corrector). A step is rejected and shortened
when Newton does not converge, when the corrector moves far from the predictor (a sign of
a jump to another branch) or when the Herglotz sign flips. The branch is therefore the one
connected to q ~ −1/z inside the upper half-plane; no absolute values are taken anywhere.

All numeric parameters travel as one pytree of traced arrays (:class:`ResolventParams`),
so a single compiled solver serves every parameter set (and can be vmapped over them).
The activation enters only through the Gaussian-equivalence constants.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._model.problem import Problem
from .._common.validation import positive
from .._common.x64 import float64

__all__ = [
    "ResolventParams",
    "ResolventResult",
    "resolvent_params",
    "solve_resolvent",
    "solve_on_grid",
    "resolvent_core",
    "spectral_density",
    "spectral_scale",
    "as_params",
    "RESIDUAL_TOL",
]

#: Relative residual below which a point counts as converged.
RESIDUAL_TOL = 1e-10

# Continuation controls (relative to the spectral scale of the parameters). ε₀ is far
# above the support, where q = −1/z − m₁/z² is accurate to O(|z|⁻³).
_EPS_START = 30.0
_EPS_FINAL = 1e-10
_NEWTON_ITERS = 6
_MAX_STEPS = 400
_ACCEPT_TOL = 1e-9      # corrector residual needed to accept a continuation step
_JUMP_TOL = 0.5         # largest relative corrector move accepted (branch-jump guard)
_FIRST_FACTOR = 0.3     # first ε ratio tried; afterwards adapted in [_MIN_FACTOR, 1)
_MIN_FACTOR = 1e-3


class ResolventParams(NamedTuple):
    """Numeric parameters of the (q, r, s) equations, as a pytree of float64 arrays.

    Attributes:
        psi_p: ψ_p = p/d.
        psi_n: ψ_n = n/d.
        a2: a_t² e^{−2t} (the signal coefficient, decay included).
        b2: b_t².
        v2: v_t².
        s2: s_t² (location of the atom of U).
        atoms: atoms of ρ_Σ, shape (K,); padding atoms with weight 0 are allowed (they
            let parameter sets with different K share one shape).
        weights: their weights, shape (K,).
    """

    psi_p: jax.Array
    psi_n: jax.Array
    a2: jax.Array
    b2: jax.Array
    v2: jax.Array
    s2: jax.Array
    atoms: jax.Array
    weights: jax.Array


class ResolventResult(NamedTuple):
    """Solution of the resolvent equations on a set of points z (a pytree of arrays).

    Attributes:
        z: complex spectral parameters where the equations were solved.
        q: (1/p) Tr (U − z)⁻¹.
        r: (1/p) Tr W̃ΣW̃ᵀ (U − z)⁻¹.
        s: (1/p) Tr W̃W̃ᵀ (U − z)⁻¹.
        density: Im q / π (the eigenvalue density per p when Im z → 0⁺).
        converged: True where the continuation reached the target and the final relative
            residual is at most :data:`RESIDUAL_TOL`.
        residual: final relative residual (max over the two equations; each residual is
            divided by the sum of the magnitudes of its terms).
        steps: continuation steps taken (accepted and rejected).
    """

    z: jax.Array
    q: jax.Array
    r: jax.Array
    s: jax.Array
    density: jax.Array
    converged: jax.Array
    residual: jax.Array
    steps: jax.Array


# ----------------------------------------------------------------------------- parameters

@float64
def resolvent_params(problem: Problem) -> ResolventParams:
    """Collect the numeric parameters of a :class:`Problem` for the solver.

    Args:
        problem: the model.

    Returns:
        :class:`ResolventParams` (float64 arrays).

    Raises:
        ValueError: if ``problem`` is not a :class:`Problem`.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    c = problem.coefficients
    f64 = functools.partial(jnp.asarray, dtype=jnp.float64)
    return ResolventParams(
        psi_p=f64(problem.psi_p),
        psi_n=f64(problem.psi_n),
        a2=f64(float(c.a) ** 2 * math.exp(-2.0 * problem.t)),
        b2=f64(float(c.b) ** 2),
        v2=f64(float(c.v2)),
        s2=f64(float(c.s2)),
        atoms=f64(problem.spectrum.atoms),
        weights=f64(problem.spectrum.weights),
    )


def _kappa(P):
    return jnp.sum(P.weights * P.atoms)


def _mean_eigenvalue(P):
    # (1/p) Tr U = s² + b² (1/p)Tr W̃W̃ᵀ + (1/p)Tr GGᵀ/n = s² + b² + v² + A κ
    return P.s2 + P.b2 + P.v2 + P.a2 * _kappa(P)


def _upper_bound(P):
    """A bound above the support of U (asymptotic operator-norm bounds of each term)."""
    sp = jnp.sqrt(P.psi_p)
    lam_max = jnp.max(jnp.where(P.weights > 0, P.atoms, 0.0))
    signal = jnp.sqrt(P.a2 * lam_max) * (sp + 1.0) * (1.0 + 1.0 / jnp.sqrt(P.psi_n))
    noise = jnp.sqrt(P.v2) * (jnp.sqrt(P.psi_p / P.psi_n) + 1.0)
    return P.s2 + (signal + noise) ** 2 + P.b2 * (sp + 1.0) ** 2


@float64
def spectral_scale(problem) -> float:
    """Scale of the spectrum, used to set ε: an upper bound of the support of U.

    The bound adds the asymptotic operator norms of the three terms of the
    Gaussian-equivalent U: s_t² + (‖signal‖ + ‖noise‖)² + b_t²(√ψ_p + 1)².

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.

    Returns:
        The bound (a float), larger than every eigenvalue of U in the limit.

    Raises:
        ValueError: if ``problem`` is neither a :class:`Problem` nor valid
            :class:`ResolventParams` (non-finite or non-positive ψ, negative constants,
            bad atoms or weights), naming the argument and the value.
    """
    return float(_upper_bound(as_params(problem)))


# ----------------------------------------------------------------------------- equations

# The equations are evaluated at the shifted spectral parameter w = z − s_t², so that
# (s_t² − z) = −w carries no cancellation: at large t whole parts of the spectrum sit
# within 1e-9 of s_t², where λ − s_t² computed from an absolute λ would keep only ~7 digits.

def _terms(x, w, P):
    """Intermediate quantities of the equations at x = (q, r)."""
    q, r = x[0], x[1]
    shat = P.b2 * P.psi_p + 1.0 / q
    D = 1.0 + (P.psi_p / P.psi_n) * (P.a2 * r + P.v2 * q)
    rhat = P.psi_p * P.a2 / D
    g = 1.0 / (shat + P.atoms * rhat)
    s = jnp.sum(P.weights * g)
    r_of = jnp.sum(P.weights * P.atoms * g)
    return q, r, D, g, s, r_of


def _residual(x, w, P):
    """Residuals (F_q, F_r) at x = (q, r) and shifted parameter w = z − s_t²."""
    q, r, D, _, s, r_of = _terms(x, w, P)
    fq = q * q * (-P.psi_p * w + P.psi_p * P.v2 / D) + (1.0 - P.psi_p) * q - s
    return jnp.stack([fq, r - r_of])


def _relative_residual(x, w, P):
    """max over equations of |residual| / (sum of the magnitudes of its terms)."""
    q, r, D, g, s, r_of = _terms(x, w, P)
    t1 = -q * q * P.psi_p * w
    t2 = q * q * P.psi_p * P.v2 / D
    t3 = (1.0 - P.psi_p) * q
    fq = t1 + t2 + t3 - s
    scale_q = jnp.abs(t1) + jnp.abs(t2) + jnp.abs(t3) + jnp.sum(P.weights * jnp.abs(g))
    scale_r = jnp.abs(r) + jnp.sum(P.weights * P.atoms * jnp.abs(g))
    rel = jnp.maximum(jnp.abs(fq) / scale_q, jnp.abs(r - r_of) / scale_r)
    return jnp.where(jnp.isfinite(rel), rel, jnp.inf)


_jacobian = jax.jacfwd(_residual, argnums=0, holomorphic=True)


def _solve2(J, f):
    """Solve the 2×2 system J y = f by Cramer's rule (vmappable, no pivoting needed)."""
    det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
    y0 = (J[1, 1] * f[0] - J[0, 1] * f[1]) / det
    y1 = (J[0, 0] * f[1] - J[1, 0] * f[0]) / det
    return jnp.stack([y0, y1])


def _newton(x, z, P, iters):
    def body(_, x):
        step = _solve2(_jacobian(x, z, P), _residual(x, z, P))
        return x - step
    return jax.lax.fori_loop(0, iters, body, x)


def _tangent(x, z, P):
    """dx/dz along the solution: −J⁻¹ ∂F/∂z (only F_q depends on z; z may be shifted)."""
    q = x[0]
    dfdz = jnp.stack([-P.psi_p * q * q, jnp.zeros_like(q)])
    return -_solve2(_jacobian(x, z, P), dfdz)


def _herglotz_ok(x, z):
    # Im q and Im r are positive for Im z > 0 (Stieltjes transforms of positive measures)
    return (jnp.imag(x[0]) > 0) & (jnp.imag(x[1]) >= 0)


def _asymptotic_start(z, P):
    """Large-|z| start: q = −1/z − m₁/z² (m₁ = (1/p) Tr U), r = −κ/z."""
    m1 = _mean_eigenvalue(P)
    q = -1.0 / z - m1 / z**2
    r = -_kappa(P) / z
    return jnp.stack([q, r])


class _State(NamedTuple):
    x: jax.Array
    eps: jax.Array
    factor: jax.Array
    steps: jax.Array
    done: jax.Array
    failed: jax.Array


def _continuation(lam, P, eps_start, eps_final):
    """Follow the physical solution from ε = eps_start to ε = eps_final.

    ``lam`` is shifted (λ − s_t²); the local ``z`` variables below are the shifted
    parameter w = lam + iε, except in the asymptotic start, which needs the true z.
    """
    z0 = lam + 1j * eps_start
    x0 = _newton(_asymptotic_start(z0 + P.s2, P), z0, P, 2 * _NEWTON_ITERS)
    ok0 = (_relative_residual(x0, z0, P) < _ACCEPT_TOL) & _herglotz_ok(x0, z0)
    state = _State(x0, eps_start, jnp.asarray(_FIRST_FACTOR), jnp.asarray(0),
                   jnp.asarray(False), ~ok0)

    def cond(st):
        return ~st.done & ~st.failed & (st.steps < _MAX_STEPS)

    def body(st):
        eps_new = jnp.maximum(st.eps * st.factor, eps_final)
        z_old = lam + 1j * st.eps
        z_new = lam + 1j * eps_new
        pred = st.x + _tangent(st.x, z_old, P) * (z_new - z_old)
        pred = jnp.where(jnp.all(jnp.isfinite(pred)), pred, st.x)
        x_new = _newton(pred, z_new, P, _NEWTON_ITERS)
        res = _relative_residual(x_new, z_new, P)
        move = jnp.max(jnp.abs(x_new - pred) / (jnp.abs(pred) + 1e-300))
        accept = ((res < _ACCEPT_TOL) & _herglotz_ok(x_new, z_new) & (move < _JUMP_TOL)
                  & jnp.all(jnp.isfinite(x_new)))
        # accepted: lengthen the next step (square the ratio); rejected: halve the log-step
        factor = jnp.where(accept, jnp.maximum(st.factor**2, _MIN_FACTOR), jnp.sqrt(st.factor))
        return _State(
            x=jnp.where(accept, x_new, st.x),
            eps=jnp.where(accept, eps_new, st.eps),
            factor=factor,
            steps=st.steps + 1,
            done=accept & (eps_new <= eps_final),
            # a ratio this close to 1 means the path cannot be followed any further
            failed=factor > 1.0 - 1e-6,
        )

    st = jax.lax.while_loop(cond, body, state)
    z = lam + 1j * st.eps
    return st.x, z, st.done, st.steps


class _Solution(NamedTuple):
    """Internal solution: the public fields plus what the structure finder needs."""

    result: ResolventResult
    dqdz: jax.Array        # dq/dz at the final point (for the gap/support test)


def _finish(x, w, done, steps, P):
    q, r, _, _, s, _ = _terms(x, w, P)
    res = _relative_residual(x, w, P)
    converged = done & (res <= RESIDUAL_TOL) & _herglotz_ok(x, w)
    dqdz = _tangent(x, w, P)[0]
    result = ResolventResult(w + P.s2, q, r, s, jnp.imag(q) / jnp.pi, converged, res, steps)
    return _Solution(result, dqdz)


def _solve_core(lam, eps_final, P):
    """Vectorised continuation: point k ends at z = s_t² + lam[k] + i eps_final[k]
    (``lam`` is shifted by s_t²)."""
    eps_start = jnp.maximum(_EPS_START * _upper_bound(P), 10.0 * jnp.max(eps_final))

    def one(l, e):
        x, z, done, steps = _continuation(l, P, eps_start, e)
        return _finish(x, z, done, steps, P)

    return jax.vmap(one)(lam, eps_final)


_solve_jit = jax.jit(_solve_core)


def resolvent_core(lam, eps_final, params: ResolventParams) -> ResolventResult:
    """Jit-able, vmappable solver core: z_k = lam[k] + i·eps_final[k].

    This is the function behind :func:`solve_on_grid` and :func:`solve_resolvent`,
    exposed for use inside the caller's own transformations (for example ``jax.vmap``
    over a batch of :class:`ResolventParams`). It returns JAX arrays and needs 64-bit
    types enabled by the caller (``with jax.enable_x64(True):``).

    Args:
        lam: real parts, shape (m,).
        eps_final: imaginary parts (> 0), shape (m,).
        params: :class:`ResolventParams` (arrays may be traced).

    Returns:
        :class:`ResolventResult` of JAX arrays of shape (m,); check ``converged`` and
        ``residual`` per point.

    Raises:
        Nothing: inputs are not checked (a jit-able core that takes traced arrays).
            Build ``params`` with :func:`resolvent_params`, or use :func:`solve_on_grid`
            and :func:`solve_resolvent`, which check their inputs. Bad values give
            non-finite or unconverged results rather than an error.
    """
    return _solve_core(lam - params.s2, eps_final, params).result


# Arrays are solved in blocks of one fixed size, so that a single compiled shape serves
# every grid (compilation costs ~2 s per shape). Small blocks also help speed: a block runs
# as many continuation steps as its slowest point needs.
_BLOCK = 128


def _solve_points(lam, eps_final, P, shifted=False) -> _Solution:
    """Solve at z = lam + i eps_final (1-D numpy arrays) in padded blocks.

    With ``shifted``, ``lam`` holds λ − s_t² (exact offsets; see the note above _terms).
    """
    lam = np.asarray(lam, dtype=float).ravel()
    if not shifted:
        lam = lam - float(P.s2)
    eps_final = np.broadcast_to(np.asarray(eps_final, dtype=float), lam.shape)
    m = lam.size
    block = _BLOCK
    total = -(-m // block) * block
    # pad with copies of the last point (a cheap, well-posed solve)
    lam_p = np.concatenate([lam, np.full(total - m, lam[-1])])
    eps_p = np.concatenate([eps_final, np.full(total - m, eps_final[-1])])
    outs = [_solve_jit(jnp.asarray(lam_p[i:i + block]), jnp.asarray(eps_p[i:i + block]), P)
            for i in range(0, total, block)]
    joined = jax.tree_util.tree_map(lambda *a: np.concatenate([np.asarray(v) for v in a])[:m],
                                    *outs)
    return joined


# ----------------------------------------------------------------------------- public

@float64
def as_params(problem) -> ResolventParams:
    """Accept a :class:`Problem` or :class:`ResolventParams` (checked, as float64 arrays).

    Raises:
        ValueError: for any other object, or parameters that are not finite, ψ ≤ 0,
            negative constants, or atoms/weights of different shapes.
    """
    if isinstance(problem, Problem):
        return resolvent_params(problem)
    if not isinstance(problem, ResolventParams):
        raise ValueError("problem must be a rfdiff.Problem or ResolventParams, "
                         f"got {problem!r}")
    vals = {}
    for name, v in problem._asdict().items():
        arr = np.asarray(v, dtype=float)
        if name in ("psi_p", "psi_n"):
            # ψ_n = inf is allowed: it is the population limit (D = 1)
            if arr.shape != () or not arr > 0 or np.isnan(arr) or (name == "psi_p"
                                                                 and np.isinf(arr)):
                raise ValueError(f"{name} must be a positive scalar, got {v!r}")
        elif name in ("a2", "b2", "v2", "s2"):
            if arr.shape != () or not np.isfinite(arr) or arr < 0:
                raise ValueError(f"{name} must be a finite scalar >= 0, got {v!r}")
        vals[name] = arr
    atoms, weights = vals["atoms"].ravel(), vals["weights"].ravel()
    if atoms.shape != weights.shape or atoms.size == 0:
        raise ValueError(f"atoms and weights must be non-empty arrays of one shape, got "
                         f"{atoms.shape} and {weights.shape}")
    if np.any(~np.isfinite(atoms)) or np.any(atoms <= 0):
        raise ValueError(f"atoms must be finite and > 0, got {atoms!r}")
    if np.any(~np.isfinite(weights)) or np.any(weights < 0) or abs(weights.sum() - 1) > 1e-12:
        raise ValueError(f"weights must be >= 0 and sum to 1, got {weights!r}")
    vals["atoms"], vals["weights"] = atoms, weights
    return ResolventParams(**{k: jnp.asarray(v, jnp.float64) for k, v in vals.items()})


def _eps_final(P, eps_rel):
    return positive("eps_rel", eps_rel) * float(_upper_bound(P))


@float64
def solve_on_grid(problem, lam, eps_rel: float = _EPS_FINAL) -> ResolventResult:
    """Solve the resolvent equations at z = λ + iε, ε → 0⁺, on a real grid.

    Every point is followed from ε far above the spectrum down to
    ``ε = eps_rel × spectral_scale`` in one vectorised, jit-compiled solve.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        lam: real λ values (any shape).
        eps_rel: final Im z relative to :func:`spectral_scale` (> 0, default 1e-10).

    Returns:
        :class:`ResolventResult` of numpy arrays with the shape of ``lam``.

    Raises:
        ValueError: for an empty or non-finite ``lam``, a bad ``eps_rel`` or a bad
            ``problem``.
    """
    P = as_params(problem)
    lam = np.asarray(lam, dtype=float)
    if lam.size == 0:
        raise ValueError("lam must contain at least one value, got an empty array")
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"lam must be finite, got {lam!r}")
    sol = _solve_points(lam.ravel(), _eps_final(P, eps_rel), P)
    return jax.tree_util.tree_map(lambda a: a.reshape(lam.shape), sol.result)


@float64
def solve_resolvent(problem, z) -> ResolventResult:
    """Solve the resolvent equations at complex z.

    Points in the upper half-plane are reached by ε-continuation from far above the
    spectrum down to their own Im z; points in the lower half-plane use
    q(z̄) = conj q(z) (U is real symmetric). Real z are refused: use
    :func:`solve_on_grid` for z = λ + i0⁺.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        z: complex points (any shape) with Im z ≠ 0.

    Returns:
        :class:`ResolventResult` of numpy arrays with the shape of ``z``.

    Raises:
        ValueError: for an empty or non-finite ``z``, or Im z = 0.
    """
    P = as_params(problem)
    z = np.asarray(z, dtype=complex)
    if z.size == 0:
        raise ValueError("z must contain at least one value, got an empty array")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"z must be finite, got {z!r}")
    if np.any(z.imag == 0):
        raise ValueError("z must have Im z != 0 (use solve_on_grid for the real axis), "
                         f"got {z[z.imag == 0].ravel()[:3]!r}")
    flat = z.ravel()
    lower = flat.imag < 0
    res = _solve_points(flat.real, np.abs(flat.imag), P).result

    def reflect(v):
        return np.where(lower, np.conj(v), v)

    res = res._replace(z=flat, q=reflect(res.q), r=reflect(res.r), s=reflect(res.s))
    res = res._replace(density=res.q.imag / np.pi)
    return jax.tree_util.tree_map(lambda a: np.asarray(a).reshape(z.shape), res)


@float64
def spectral_density(problem, lam, eps_rel: float = _EPS_FINAL):
    """Eigenvalue density per p, ρ(λ) = Im q(λ + i0⁺)/π, on a real grid.

    Args:
        problem: a :class:`Problem` or :class:`ResolventParams`.
        lam: real λ values.
        eps_rel: final Im z relative to :func:`spectral_scale`.

    Returns:
        ``(density, converged)`` numpy arrays of the shape of ``lam``. Atoms (the one at
        s_t², if any) are not part of the density: see :func:`spectral_structure`.

    Raises:
        ValueError: as :func:`solve_on_grid`.
    """
    res = solve_on_grid(problem, lam, eps_rel)
    return res.density, res.converged
