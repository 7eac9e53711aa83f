"""Exact gradient flow of the quadratic loss, in the paper's training time τ = kη/d².

With M = A/√p the flow dA/dτ = −d²∇_A L reads (THEORY.md §2)

    dM/dτ = −(2Δ_t/ψ_p) (M U + Vᵀ/√Δ_t),

solved in the eigenbasis U = Q diag(λ) Qᵀ: with N = M Q, B = Vᵀ Q,

    N(τ) = −Δ_t^{−1/2} B diag(g(τ)) + N(0) diag(e(τ)),
    e_k = exp(−c λ_k τ),  g_k = (1 − e_k)/λ_k = c τ φ₁(c λ_k τ),  c = 2Δ_t/ψ_p,

φ₁(x) = (1 − e^{−x})/x, evaluated with expm1 and equal to 1 at x = 0, so that λτ → 0 and
eigenvalues at round-off level are safe. A mode relaxes as e^{−cλτ} in the weights and as
e^{−2cλτ} = e^{−4Δ_tλτ/ψ_p} in the losses; the paper's timescale ψ_p/(Δ_t λ) drops these
factors of 2 and 4. At τ = ∞, modes with λ below ``rcond``·λ_max are treated as null
directions (g = 0, e = 1): U v = 0 implies vᵀσ = 0 almost surely, hence vᵀV = 0, so these
modes are never driven (a pseudo-inverse).

Weight decay λ ≥ 0 (``Problem.ridge``): training minimises L + λΔ_t‖M‖²_F/d, whose flow is
the one above with U replaced by U + λI. The eigenbasis is the same, so the rates and g use
λ_k + λ (at τ = ∞, g_k = 1/(λ_k + λ) and every mode, null ones included, forgets M(0) when
λ > 0), while the reported train loss keeps U itself: losses never include the penalty.

Every loss is a quadratic form in N; the matrices of these forms are built once (decompose
once, evaluate any τ), after which a grid of T times costs O(T p²).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from .instance import Instance
from .._common import Curves, check_fits, float64
from .._common.validation import nonnegative

__all__ = ["Flow", "Curves", "gradient_flow", "learning_curves", "weights_at", "losses_of", "phi1"]


@dataclasses.dataclass(frozen=True)
class Flow:
    """Eigendecomposition of U and the quadratic forms of the losses.

    Attributes:
        instance: the finite-size :class:`Instance`.
        eigvals: eigenvalues of U (ascending, clipped at 0).
        Q: eigenvectors (columns).
        rate: c = 2Δ_t/ψ_p (weights relax as e^{−cλτ}).
        null: boolean mask of modes treated as null at τ = ∞.
        ridge: weight decay λ of the flow (the modes relax with λ_k + λ).
    """

    instance: Instance
    eigvals: jax.Array
    Q: jax.Array
    rate: float
    null: jax.Array
    _forms: dict
    ridge: float = 0.0
    # the loss forms on the held-out half difference (None without a held-out population)
    _half_forms: dict | None = None


def _forms(inst: Instance, Q, M0, population=None):
    """Per-mode vectors and p×p matrices of every loss as a quadratic form in (g, e).

    ``population`` (an object with ``U_pop``, ``V_pop``, ``S``) replaces the instance's
    population matrices: the held-out half difference, on which the losses are linear.
    """
    pop = inst if population is None else population
    arrays = (inst.V, pop.V_pop, pop.S, pop.U_pop, Q)
    if M0 is None:
        return _forms_core(*arrays)
    return _forms_core(*arrays, M0)


# rows per panel of the symmetric product QᵀŨQ: large products, little waste on the diagonal
_PANEL = 512


def _congruence(A, Q):
    """QᵀAQ for a symmetric A, exactly symmetric, at about 3/4 of the cost of two products.

    With the row blocks Q_i of Qᵀ: Z_i = Q_i A (one full product in all), then of the
    tiles Z_i Q_jᵀ only those on and above the diagonal (j ≥ i), mirrored below. Whole
    row blocks are the operands (no slices of large matrices are copied per tile).
    """
    p = Q.shape[0]
    b = min(p, _PANEL)
    nb = -(-p // b)
    Qt = Q.T
    blocks = [Qt[i * b:(i + 1) * b] for i in range(nb)]
    Z = [blk @ A for blk in blocks]  # = row blocks of (A Q)ᵀ since A is symmetric
    upper = {(i, j): Z[i] @ blocks[j].T for i in range(nb) for j in range(i, nb)}
    rows = [[upper[i, j] if j >= i else upper[j, i].T for j in range(nb)] for i in range(nb)]
    full = jnp.block(rows)
    diag = [0.5 * (upper[i, i] + upper[i, i].T) for i in range(nb)]  # exactly symmetric
    for i in range(nb):
        full = jax.lax.dynamic_update_slice(full, diag[i], (i * b, i * b))
    return full


@jax.jit
def _forms_core(V, V_pop, S, U_pop, Q, M0=None):
    # three products with Q (d×p×p each) and QᵀŨQ (one p×p×p product and the upper half of
    # another): the O(p³) part
    B = V.T @ Q  # (d, p)
    Bp = V_pop.T @ Q
    Bs = S.T @ Q
    Up = _congruence(U_pop, Q)
    f = {
        "beta": jnp.sum(B * B, axis=0),
        "bp": jnp.sum(B * Bp, axis=0),
        "bs": jnp.sum(B * Bs, axis=0),
        "P_bb": Up * (B.T @ B),
    }
    if M0 is not None:
        N0 = M0 @ Q
        f.update(
            gamma=jnp.sum(B * N0, axis=0),
            eta=jnp.sum(N0 * N0, axis=0),
            np_=jnp.sum(N0 * Bp, axis=0),
            ns=jnp.sum(N0 * Bs, axis=0),
            P_bn=Up * (B.T @ N0),
            P_nn=Up * (N0.T @ N0),
        )
    return f


def _eigh(U):
    """Eigenvalues (ascending) and eigenvectors of the symmetric U.

    On a CPU backend LAPACK's divide-and-conquer solver (syevd, through SciPy) is used: it
    is several times faster there than XLA's CPU eigh. On an accelerator the backend's own
    solver runs where the data already lives.
    """
    if jax.default_backend() == "cpu":
        import scipy.linalg  # only the CPU route needs it

        lam, Q = scipy.linalg.eigh(np.array(U, dtype=np.float64), driver="evd",
                                   overwrite_a=True, check_finite=False)
        return jnp.asarray(lam), jnp.asarray(Q)
    return jnp.linalg.eigh(jnp.asarray(U, dtype=jnp.float64))


@float64
def gradient_flow(instance: Instance, M0=None, rcond: float | None = None, *,
                  ridge: float | None = None) -> Flow:
    """Decompose U once so that :func:`learning_curves` evaluates any τ cheaply.

    Args:
        instance: a :class:`Instance` (any method).
        M0: initial rescaled weights M(0) = A(0)/√p, shape (d, p); default 0.
        rcond: relative eigenvalue cutoff for null modes at τ = ∞ (default p·eps).
        ridge: weight decay λ ≥ 0 of the training loss L + λΔ_t‖M‖²_F/d; None (default)
            takes ``instance.problem.ridge``. The flow relaxes to
            M(∞) = −Δ_t^{−1/2} Vᵀ(U + λI)^{−1}.

    Returns:
        :class:`Flow`.

    Raises:
        ValueError: if M0 has the wrong shape or is not finite, or ``ridge`` is negative
            or not finite.
    """
    ridge = instance.problem.ridge if ridge is None else nonnegative("ridge", ridge)
    if M0 is not None:
        M0 = jnp.asarray(M0, dtype=jnp.float64)
        if M0.shape != (instance.d, instance.p):
            raise ValueError(f"M0 must have shape {(instance.d, instance.p)}, got {M0.shape}")
        if not bool(jnp.all(jnp.isfinite(M0))):
            raise ValueError("M0 must be finite")
    from .timing import timed  # stage times for benchmarks; a plain call otherwise

    lam, Q = timed("decomposition", _eigh, instance.U)
    rcond = instance.p * np.finfo(np.float64).eps if rcond is None else rcond
    null = lam <= rcond * jnp.max(jnp.abs(lam))
    lam = jnp.maximum(lam, 0.0)
    rate = 2.0 * instance.problem.delta / instance.problem.psi_p
    halves = instance.half_difference
    half_forms = None if halves is None else timed("held-out error forms", _forms, instance,
                                                   Q, M0, halves)
    return Flow(instance, lam, Q, rate, null, timed("loss forms", _forms, instance, Q, M0),
                ridge, half_forms)


def phi1(x):
    """φ₁(x) = (1 − e^{−x})/x, equal to 1 at x = 0 (jit-able; the flow's one home of it).

    Args:
        x: array.

    Returns:
        φ₁(x), with the removable singularity at 0 handled by its Taylor expansion.

    Raises:
        Nothing.
    """
    small = jnp.abs(x) < 1e-8
    xs = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - 0.5 * x, -jnp.expm1(-xs) / xs)


def _g_e(flow: Flow, tau):
    """(g, e) of shape (T, p) for times tau (T,), handling τ = ∞."""
    return _g_e_core(jnp.asarray(flow.eigvals), jnp.asarray(flow.null), flow.rate, tau,
                     flow.ridge)


@jax.jit
def _g_e_core(lam, null, c, tau, ridge=0.0):
    tau = tau[:, None]
    inf = jnp.isinf(tau)
    tau_f = jnp.where(inf, 0.0, tau)
    lam = lam + ridge  # the modes of U + λI drive the flow
    g_fin = c * tau_f * phi1(c * lam[None, :] * tau_f)
    e_fin = jnp.exp(-c * lam[None, :] * tau_f)
    safe = jnp.where(null, 1.0, lam)
    # null modes carry no V (their g stays 0); with λ > 0 they still forget M(0)
    g_inf = jnp.where(null, 0.0, 1.0 / safe)[None, :]
    e_inf = jnp.where(null & (ridge <= 0.0), 1.0, 0.0)[None, :]
    return jnp.where(inf, g_inf, g_fin), jnp.where(inf, e_inf, e_fin)


def _curves(flow: Flow, tau):
    inst = flow.instance
    forms = {k: jnp.asarray(v) for k, v in flow._forms.items()}
    return _curves_core(forms, jnp.asarray(flow.eigvals), jnp.asarray(flow.null), flow.rate,
                        tau, inst.problem.delta, inst.d, inst.score_trace, flow.ridge)


@jax.jit
def _curves_core(f, lam, null, rate, tau, delta, d, score_trace, ridge=0.0):
    # one compiled evaluation: (T, p) mode weights, then T·p² for the quadratic forms;
    # the weights follow U + λI, the train loss below uses U (no penalty term)
    g, e = _g_e_core(lam, null, rate, tau, ridge)
    return _losses_of_modes(f, lam, g, e, delta, d, score_trace)


def _losses_of_modes(f, lam, g, e, delta, d, score_trace):
    """(train, test, score) of N = −Δ^{−1/2} B diag(g) + N(0) diag(e), rows of (g, e) being
    times: the quadratic forms of every loss in the mode weights (jit-able; also serves
    the discrete steps of :mod:`rfdiff._finite.protocol`, whose g is not the flow's)."""
    sq = jnp.sqrt(delta)
    has_m0 = "eta" in f
    # |N_k|² and N_k·(B, Bp, Bs)_k, mode by mode
    nn = g**2 * f["beta"] / delta
    nb = -g * f["beta"] / sq
    npop = -g * f["bp"] / sq
    nsc = -g * f["bs"] / sq
    quad = jnp.sum((g @ f["P_bb"]) * g, axis=1) / delta
    if has_m0:
        nn = nn - 2 * g * e * f["gamma"] / sq + e**2 * f["eta"]
        nb = nb + e * f["gamma"]
        npop = npop + e * f["np_"]
        nsc = nsc + e * f["ns"]
        quad = (quad - 2 * jnp.sum((g @ f["P_bn"]) * e, axis=1) / sq
                + jnp.sum((e @ f["P_nn"]) * e, axis=1))
    train = 1.0 + (delta * jnp.sum(lam * nn, axis=1) + 2 * sq * jnp.sum(nb, axis=1)) / d
    test = 1.0 + (delta * quad + 2 * sq * jnp.sum(npop, axis=1)) / d
    score = (quad + 2 * jnp.sum(nsc, axis=1)) / d + score_trace
    return train, test, score


def _time_grid(tau):
    """τ as a non-empty 1-D float64 array of times ≥ 0 (``inf`` allowed), else ValueError."""
    tau = jnp.atleast_1d(jnp.asarray(tau, dtype=jnp.float64))
    if tau.ndim != 1 or bool(jnp.any(jnp.isnan(tau))) or bool(jnp.any(tau < 0)):
        raise ValueError(f"tau must be a 1-D array of times >= 0, got {np.asarray(tau)!r}")
    if tau.size == 0:
        raise ValueError("tau must hold at least one time, got an empty grid")
    return tau


@float64
def learning_curves(flow: Flow, tau) -> Curves:
    """Train, test and generalisation losses and the score error at training times τ.

    With weight decay (``flow.ridge`` > 0) the weights follow the penalised flow and every
    loss, the train loss included, is reported without the penalty term.

    Args:
        flow: from :func:`gradient_flow`.
        tau: scalar or 1-D array of times τ ≥ 0 (``inf`` for the end of training).

    Returns:
        :class:`Curves` (one vectorised evaluation for the whole grid).

    Raises:
        ValueError: if ``flow`` is not a :class:`Flow`, for an empty grid or negative or
            NaN times, or (MemoryPlanError) when the (T, p) mode weights would not fit.
    """
    if not isinstance(flow, Flow):
        raise ValueError(f"flow must be a rfdiff.Flow, got {flow!r}")
    tau = _time_grid(tau)
    # about a dozen (T, p) float64 arrays live at once in the compiled evaluation
    check_fits(f"learning curves on {tau.size} times (p={flow.instance.p})",
               12 * 8 * tau.size * flow.instance.p, remedy="use fewer times")
    from .timing import timed  # stage times for benchmarks; a plain call otherwise

    train, test, score = timed("curves", _curves, flow, tau)
    return Curves(tau, train, test, test - train, score)


@float64
def weights_at(flow: Flow, tau, M0=None):
    """Rescaled weights M(τ) = A(τ)/√p, shape (T, d, p) for a grid of T times.

    M(τ) is the gradient flow started from ``M0``; only the eigendecomposition of
    ``flow`` is used, so the losses of :func:`learning_curves` describe these weights
    when ``M0`` is the one given to :func:`gradient_flow` for ``flow``.

    Args:
        flow: a :class:`Flow`, from :func:`gradient_flow`.
        tau: scalar or 1-D array of T times τ ≥ 0 (``inf`` for the end of training).
        M0: initial rescaled weights M(0), shape (d, p), finite; None for zero.

    Returns:
        M(τ) at each time, a numpy float64 array of shape (T, d, p) (T = 1 for a scalar
        ``tau``).

    Raises:
        ValueError: if ``flow`` is not a :class:`Flow`, ``tau`` is not 1-D or has
            negative or NaN times, or ``M0`` has the wrong shape or is not finite, naming
            the argument and the value.
    """
    if not isinstance(flow, Flow):
        raise ValueError(f"flow must be a rfdiff.Flow, got {flow!r}")
    tau = jnp.atleast_1d(jnp.asarray(tau, dtype=jnp.float64))
    if tau.ndim != 1 or bool(jnp.any(jnp.isnan(tau))) or bool(jnp.any(tau < 0)):
        raise ValueError(f"tau must be a 1-D array of times >= 0, got {np.asarray(tau)!r}")
    if M0 is not None:
        M0 = jnp.asarray(M0, dtype=jnp.float64)
        shape = (flow.instance.d, flow.instance.p)
        if M0.shape != shape:
            raise ValueError(f"M0 must have shape {shape}, got {M0.shape}")
        if not bool(jnp.all(jnp.isfinite(M0))):
            raise ValueError("M0 must be finite")
    g, e = _g_e(flow, tau)
    inst = flow.instance
    B = inst.V.T @ flow.Q
    N = -(B[None] * g[:, None, :]) / jnp.sqrt(inst.problem.delta)
    if M0 is not None:
        N = N + (jnp.asarray(M0) @ flow.Q)[None] * e[:, None, :]
    return N @ flow.Q.T


@float64
def losses_of(instance: Instance, M):
    """(L_train, L_test, E_score) of explicit rescaled weights M = A/√p (shape (..., d, p)).

    The direct definitions, used to check the flow and by the discrete training twins:
    L = 1 + (Δ/d) Tr(M U Mᵀ) + (2√Δ/d) Tr(M V) with (U, V) or (Ũ, Ṽ), and
    E_score = (1/d)[Tr(M Ũ Mᵀ) + 2 Tr(M S)] + Tr(C⁻¹)/d.

    Args:
        instance: the finite-size :class:`Instance` whose matrices define the losses.
        M: rescaled weights of shape (..., d, p); leading axes (for example a time grid)
            are batch axes. Values are not checked: non-finite weights (a diverged
            training run) give non-finite losses.

    Returns:
        The tuple ``(train, test, score)`` of numpy float64 arrays of the batch shape
        ``M.shape[:-2]`` (0-d arrays for a single (d, p) matrix).

    Raises:
        ValueError: if ``instance`` is not an :class:`Instance` or ``M`` does not have
            shape (..., d, p), naming the argument and the shape.
    """
    if not isinstance(instance, Instance):
        raise ValueError(f"instance must be a rfdiff.Instance, got {instance!r}")
    M = jnp.asarray(M, dtype=jnp.float64)
    if M.ndim < 2 or M.shape[-2:] != (instance.d, instance.p):
        raise ValueError(f"M must have shape (..., {instance.d}, {instance.p}), "
                         f"got {M.shape}")
    delta, d = instance.problem.delta, instance.d
    sq = jnp.sqrt(delta)

    def quad(A):
        return jnp.einsum("...ap,pq,...aq->...", M, A, M)

    def lin(B):
        return jnp.einsum("...ap,pa->...", M, B)

    train = 1.0 + (delta * quad(instance.U) + 2 * sq * lin(instance.V)) / d
    test = 1.0 + (delta * quad(instance.U_pop) + 2 * sq * lin(instance.V_pop)) / d
    score = (quad(instance.U_pop) + 2 * lin(instance.S)) / d + instance.score_trace
    return train, test, score
