"""Hermite coefficient tables of a smooth activation by paired Gauss–Hermite nodes.

For every pair (i, ν) the train matrices need c_k = E_u[h_k(u) σ(m + ς u)] for k ≤ kmax,
E σ² and E σ', by Gauss–Hermite quadrature on Q nodes (THEORY.md §6). Three facts make
this cheap:

- The rule is symmetric (nodes ±u_q, equal weights) and h_k(−u) = (−1)^k h_k(u). With
  S± = σ(m + ς u_q) ± σ(m − ς u_q), the even orders are projections of S+ and the odd
  orders of S− on the Q/2 nonnegative nodes, c_k = Σ_q w_q h_k(u_q) S±_q: half the work
  of projecting σ on all Q nodes. (An odd rule has the node 0; it enters as a pair of
  itself with half its weight.)
- For a bounded activation (|σ| ≤ 1: tanh, erf) the outermost pairs, whose weight times
  the largest |h_k| up to kmax sums to below ``_TRIM``, change no coefficient and no
  moment by more than that bound (far below rounding) and are left out. For the default
  200 nodes about half the pairs remain.
- For tanh the addition theorem gives S± from tanh and sech² of m and of y = ς u_q taken
  separately: with A = tanh m, a = sech² m, B = tanh y, b = sech² y and
  r = 2/(a + A² b), where a + A² b = 1 − A²B² is a sum of positive terms (no
  cancellation),

      S+ = A · b r,   S− = a · B r,   σ+² + σ−² = (A² b² + a² B²) r²/2.

  So c_k = A Σ_q (w_q h_k(u_q) b_q) r_q for even k and a Σ_q (w_q h_k(u_q) B_q) r_q for
  odd k: one division per node pair, no transcendental function, and every order and
  E σ² from products of the node arrays r and r² with small per-row tables; E σ' =
  Σ w (1 − σ²) follows from E σ². The form needs a, b above the underflow threshold
  (|m|, |y| < 300); a chunk outside that range is evaluated directly.

The rows are processed in sub-chunks of a few rows, nodes on the middle axis, so that the
node arrays stay in cache while the products run over them.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .._model.quadrature import gauss_hermite, normalized_hermite

__all__ = ["paired_kernel"]

# beyond this |argument| sech² could underflow and the addition form lose its accuracy
_TANH_SAFE = 300.0
# bound on what the omitted outer node pairs may contribute to any coefficient or moment of
# an activation with |σ| ≤ 1 (rounding in the kept sums is ~1e-16)
_TRIM = 1e-20
# activations with |σ| ≤ 1 everywhere
_BOUNDED = (jnp.tanh, jsp.erf)


@functools.cache
def _paired_rule(degree: int, kmax: int, trim: bool):
    """Nonnegative nodes, their pair weights and the projection table.

    Returns ``(u, w, table, total)``: u, w of shape (Q2,); ``table`` (kmax+1, Q2) holding
    w_q h_k(u_q); ``total`` the sum of all Q weights (1 up to rounding). With ``trim`` the
    outermost pairs whose contributions sum to below ``_TRIM`` (for |σ| ≤ 1) are left out.
    """
    x, wx = gauss_hermite(degree)  # ascending, symmetric up to rounding
    h = degree // 2
    # average each node with its mirror image so that the pairs are exactly ±u
    u = 0.5 * (x[degree - h:] - x[:h][::-1])
    w = 0.5 * (wx[degree - h:] + wx[:h][::-1])
    if degree % 2:  # the middle node 0, paired with itself at half weight
        u = np.concatenate([[0.0], u])
        w = np.concatenate([[0.5 * wx[h]], w])
    with jax.enable_x64(True):  # the cached table must not depend on the caller's precision
        h = np.asarray(normalized_hermite(jnp.asarray(u, dtype=jnp.float64), kmax))
    table = h.astype(np.float64) * w  # (kmax+1, Q2), u ascending
    if trim:
        # a pair adds at most 2 w_q max_k |h_k(u_q)| to any c_k (and 2 w_q to E σ²)
        worst = 2.0 * np.max(np.abs(np.vstack([table, w])), axis=0)
        tail = np.cumsum(worst[::-1])[::-1]  # what leaving out pairs q.. would cost
        q = int(np.searchsorted(-tail, -_TRIM, side="right"))
        u, w, table = u[:q], w[:q], table[:, :q]
    return u, w, table, float(wx.sum())


def _tanh_sech2(x):
    # tanh and sech² from e^{−2|x|}: no overflow, full relative accuracy of sech² in the tails
    e = jnp.exp(-2.0 * jnp.abs(x))
    return jnp.sign(x) * ((1.0 - e) / (1.0 + e)), 4.0 * e / (1.0 + e) ** 2


def _direct(act, table, w, m, y):
    """(c (K1, r, n), Σ w(σ+² + σ−²), Σ w(σ'+ + σ'−)) over the pairs, σ evaluated at every node.

    m: (r, 1, n) clean parts, y: (r, Q2, 1) node offsets ς_i u_q.
    """
    fp, fm = act(m + y), act(m - y)
    wq = w[None, :, None]
    second = jnp.sum(wq * (fp * fp + fm * fm), axis=1)
    deriv = jnp.sum(wq * (act.derivative(m + y) + act.derivative(m - y)), axis=1)
    even = jnp.einsum("kq,rqn->krn", table[0::2], fp + fm)
    odd = jnp.einsum("kq,rqn->krn", table[1::2], fp - fm)
    return _interleave(even, odd, table.shape[0]), second, deriv


def _interleave(even, odd, orders):
    # (ke, r, n) and (ko, r, n) -> (orders, r, n) in the order 0, 1, 2, …
    if odd.shape[0] < even.shape[0]:
        odd = jnp.concatenate([odd, jnp.zeros((1,) + odd.shape[1:], odd.dtype)])
    both = jnp.stack([even, odd], axis=1)
    return both.reshape((-1,) + even.shape[1:])[:orders]


def _tanh_chunk(act, table, w, total, m, s, u):
    """As :func:`_direct` for σ = tanh, by the addition theorem (module text)."""
    y = s[:, None] * u[None, :]  # (r, Q2)
    odd_k = (np.arange(table.shape[0]) % 2 == 1)[None, :, None]

    def fast(m, y):
        A, a = _tanh_sech2(m)  # (r, n)
        B, b = _tanh_sech2(y)  # (r, Q2)
        r = 2.0 / (a[:, None, :] + (A * A)[:, None, :] * b[:, :, None])  # (r, Q2, n)
        # per-row tables: w h_k b (even k) and w h_k B (odd k); w b², w B² for E σ²
        T = table[None] * jnp.where(odd_k, B[:, None, :], b[:, None, :])
        V = jnp.stack([w * b * b, w * B * B], axis=1)
        proj = jnp.einsum("rkq,rqn->krn", T, r)
        sq = jnp.einsum("rjq,rqn->jrn", V, r * r)
        c = proj * jnp.where(odd_k[0, :, :, None], a[None], A[None])
        second = 0.5 * (A * A * sq[0] + a * a * sq[1])
        return c, second, total - second  # σ' = 1 − σ²

    def direct(m, y):
        return _direct(act, table, w, m[:, None, :], y[:, :, None])

    ok = (jnp.max(jnp.abs(m)) < _TANH_SAFE) & (jnp.max(jnp.abs(y)) < _TANH_SAFE)
    return jax.lax.cond(ok, fast, direct, m, y)


@functools.cache
def paired_kernel(act, kmax: int, degree: int, sub: int):
    """Compiled kernel for one row block of a smooth activation (shared nodes).

    Args:
        act: a smooth :class:`Activation` (no kinks).
        kmax: highest order.
        degree: number of Gauss–Hermite nodes.
        sub: rows per sub-chunk (the block's rows are a multiple of it).

    Returns:
        ``kernel(mean (b, n), std (b,)) -> (C (kmax+1, b, n), row means over ν of C²
        (kmax+1, b), of E σ² (b,) and of E σ' (b,))``.
    """
    # NumPy constants: they take the precision of the trace (x64 is part of the jit key)
    u, w, table, total = _paired_rule(degree, kmax, any(act.fn is f for f in _BOUNDED))

    if act.fn is jnp.tanh:
        def chunk(m, s):
            return _tanh_chunk(act, table, w, total, m, s, u)
    else:
        def chunk(m, s):
            return _direct(act, table, w, m[:, None, :], (s[:, None] * u)[:, :, None])

    def block(mean, std):
        b, n = mean.shape

        def body(i, carry):
            out, second, deriv = carry
            m = jax.lax.dynamic_slice_in_dim(mean, i * sub, sub)
            s = jax.lax.dynamic_slice_in_dim(std, i * sub, sub)
            c, sec, der = chunk(m, s)
            return (jax.lax.dynamic_update_slice_in_dim(out, c, i * sub, axis=1),
                    jax.lax.dynamic_update_slice_in_dim(second, jnp.mean(sec, axis=-1),
                                                        i * sub, axis=0),
                    jax.lax.dynamic_update_slice_in_dim(deriv, jnp.mean(der, axis=-1),
                                                        i * sub, axis=0))

        init = (jnp.zeros((kmax + 1, b, n), mean.dtype), jnp.zeros(b, mean.dtype),
                jnp.zeros(b, mean.dtype))
        c, second, deriv = jax.lax.fori_loop(0, b // sub, body, init)
        return c, jnp.mean(c * c, axis=-1), second, deriv

    return jax.jit(block)
