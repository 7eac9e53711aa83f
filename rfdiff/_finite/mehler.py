"""Mehler build of the exact finite-size matrices as blocked matrix products (THEORY.md §6).

Off the diagonal, the exact K = ∞ matrices are Mehler series in the correlation R_ij of
two Gaussian preactivations,

    U_ij = Σ_{k≤K} R_ij^k G^(k)_ij,   G^(k) = s · C_k C_kᵀ,

with C_k(i, ν) = E_u[h_k(u) σ(m_iν + ς_i u)] the normalised Hermite coefficients (h_k =
He_k/√k!) and s = 1/n (train) or 1 (population, one column). Each order is therefore one
matrix product. The rows are cut into equal blocks; only the blocks on and above the
diagonal are computed (the matrix is symmetric), which halves the work of the products.
For a pair of blocks the K+1 products are one batched product (no per-order copies of the
tables), and the R^k weights are applied in one fused elementwise pass by Horner's rule
G^(0) + R∘(G^(1) + R∘(G^(2) + …)). Everything is JAX, so the same code runs on a CPU or an
accelerator.

The coefficients are computed block by block as well, in sub-chunks of rows that bound the
quadrature buffer, and projected on all orders at once (matrix products with the table of
h_k at the nodes): for smooth activations on paired nodes ±u (:mod:`.node_pairs`), for
kinked ones on the panels around the kink, or from a closed form where the activation
has one. Since K is small whenever the tables are large, a first pass computes only the
orders up to ``_FIRST_ORDERS`` (:func:`truncated_coefficients`).
"""

from __future__ import annotations

import functools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .._common import NotConvergedError, Status
from .._model.quadrature import nodes_and_weights, normalized_hermite
from .node_pairs import paired_kernel

# quadrature buffer (rows × n × nodes) per sub-chunk, in entries: small enough to stay in
# cache, since the kernel makes several passes over it (σ, σ², σ', the projection)
_BUFFER = 2**19
# target rows of a Mehler block: large enough for efficient products, small enough that
# the blocks above the diagonal are close to half of the matrix
_BLOCK = 512
# orders of the first coefficient pass (see truncated_coefficients)
_FIRST_ORDERS = 16


def _hermite_coeffs(act, mean, std, kmax, degree):
    """c_k = E_u[h_k(u) σ(mean + std·u)] for k = 0..kmax, plus E σ² and E σ'.

    Returns arrays of shape (kmax+1,) + mean.shape, mean.shape, mean.shape.
    """
    u, w = nodes_and_weights(mean, std, act.kinks, degree)
    x = mean[..., None] + std[..., None] * u
    sig = act(x)
    ws = w * sig
    second = jnp.sum(ws * sig, axis=-1)
    # E σ' by quadrature of the derivative: a route independent of the Stein form c_1/std
    first_deriv = jnp.sum(w * act.derivative(x), axis=-1)
    if not act.kinks:
        # shared Gauss–Hermite nodes: all orders at once as one matrix product
        h = normalized_hermite(u.reshape(-1, u.shape[-1])[0], kmax)  # (kmax+1, Q)
        coeffs = jnp.einsum("kq,...q->k...", h, ws)
    else:
        # nodes move with (mean, std): run the recurrence without storing all orders
        def body(carry, k):
            h_prev, h_cur = carry
            h_next = (u * h_cur - jnp.sqrt(k) * h_prev) / jnp.sqrt(k + 1.0)
            return (h_cur, h_next), jnp.sum(h_next * ws, axis=-1)
        c0 = jnp.sum(ws, axis=-1)
        c1 = jnp.sum(u * ws, axis=-1)
        _, rest = jax.lax.scan(body, (jnp.ones_like(u), u), jnp.arange(1.0, kmax))
        coeffs = jnp.concatenate([c0[None], c1[None], rest], axis=0)[: kmax + 1]
    return coeffs, second, first_deriv


@functools.lru_cache(maxsize=None)
def _coeff_kernel(act, kmax, degree, use_closed_form=True):
    """Compiled (mean, std) -> (c_0..c_kmax, E σ², E σ'), elementwise in (mean, std)."""
    if use_closed_form and act.hermite_moments is not None:
        return jax.jit(lambda m, s: act.hermite_moments(m, s, kmax))
    return jax.jit(lambda m, s: _hermite_coeffs(act, m, s, kmax, degree))


@functools.lru_cache(maxsize=None)
def _block_kernel(act, kmax, degree, sub):
    """Compiled kernel for one row block: (mean (b, n), std (b,)) ->
    (C (kmax+1, b, n), row means of C², E σ², E σ' over ν).

    The block is processed in sub-chunks of ``sub`` rows (lax.map), so the quadrature
    buffer stays at sub × n × nodes entries whatever the block size.
    """
    point = _coeff_kernel(act, kmax, degree)

    def chunk(args):
        m, s = args
        c, second, dmean = point(m, jnp.broadcast_to(s[:, None], m.shape))
        return c, jnp.mean(second, axis=-1), jnp.mean(dmean, axis=-1)

    def block(mean, std):
        b, n = mean.shape
        parts = jax.lax.map(chunk, (mean.reshape(b // sub, sub, n), std.reshape(b // sub, sub)))
        c = jnp.moveaxis(parts[0], 0, 1).reshape(kmax + 1, b, n)
        return c, jnp.mean(c * c, axis=-1), parts[1].reshape(b), parts[2].reshape(b)

    return jax.jit(block)


def block_layout(p: int, n: int, degree: int, kinks: bool):
    """Row layout of the blocked build: (sub-chunk rows, block rows, number of blocks).

    Args:
        p: number of rows (features).
        n: columns of the coefficient table (training points, or 1 for the population).
        degree: quadrature degree (nodes per panel).
        kinks: whether the activation has kinks (two panels of nodes).

    Returns:
        ``(sub, b, nb)``: rows per quadrature sub-chunk, rows per block (a multiple of
        ``sub``) and number of blocks, with ``nb·b ≥ p`` (the last block is padded).
    """
    nodes = degree * (2 if kinks else 1)
    nb = max(1, round(p / _BLOCK))
    b0 = math.ceil(p / nb)  # rows per block before rounding to whole sub-chunks
    per = math.ceil(b0 / max(1, _BUFFER // (n * nodes)))  # sub-chunks per block
    sub = math.ceil(b0 / per)
    b = sub * per
    return sub, b, math.ceil(p / b)


def coefficient_blocks(act, mean, std, kmax: int, degree: int, layout):
    """Hermite coefficients of σ(mean + std·u) for all rows, as row blocks.

    Args:
        act: the :class:`Activation`.
        mean: (p, n) clean parts m_iν of the preactivations.
        std: (p,) noise standard deviations ς_i.
        kmax: highest order.
        degree: quadrature degree.
        layout: ``(sub, b, nb)`` from :func:`block_layout`.

    Returns:
        ``(blocks, msq, second, dmean)``: the list of nb arrays (kmax+1, b, n) (padded
        rows have mean 0, std 1), and for the p rows the means over ν of c_k² (shape
        (kmax+1, p)), of E σ² and of E σ' (shape (p,)).
    """
    sub, b, nb = layout
    p, n = mean.shape
    pad = nb * b - p
    mean = jnp.concatenate([mean, jnp.zeros((pad, n))]) if pad else mean
    std = jnp.concatenate([std, jnp.ones((pad,))]) if pad else std
    if act.hermite_moments is None and not act.kinks:
        kernel = paired_kernel(act, kmax, degree, sub)  # shared nodes, paired ±u
    else:
        kernel = _block_kernel(act, kmax, degree, sub)
    out = [kernel(mean[i * b:(i + 1) * b], std[i * b:(i + 1) * b]) for i in range(nb)]
    msq = jnp.concatenate([o[1] for o in out], axis=1)[:, :p]
    second = jnp.concatenate([o[2] for o in out])[:p]
    dmean = jnp.concatenate([o[3] for o in out])[:p]
    return [o[0] for o in out], msq, second, dmean


def truncated_coefficients(act, mean, std, rmax: float, tol: float, kmax: int, degree: int,
                           layout):
    """The coefficient blocks up to the truncation order, found with as few orders as needed.

    A first pass computes the orders up to ``_FIRST_ORDERS`` (enough whenever the series
    converges quickly, which is where the tables are large); only when the tail bound is
    not met there does a second pass compute all ``kmax`` orders. K and the bound are those
    that :func:`truncation` gives on all orders.

    Args:
        act, mean, std, degree, layout: as for :func:`coefficient_blocks`.
        rmax: max |R_ij| over i ≠ j of the correlations.
        tol: target tail bound (``mehler_tol``).
        kmax: largest order considered.

    Returns:
        ``(blocks, K, bound, second, dmean)``: the row blocks holding the orders
        0..max(K, 1), then as :func:`truncation` and :func:`coefficient_blocks`.
    """
    first = min(kmax, _FIRST_ORDERS)
    blocks, msq, second, dmean = coefficient_blocks(act, mean, std, first, degree, layout)
    K, bound = truncation(msq, second, rmax, tol, first)
    if bound > tol and first < kmax:
        del blocks
        blocks, msq, second, dmean = coefficient_blocks(act, mean, std, kmax, degree, layout)
        K, bound = truncation(msq, second, rmax, tol, kmax)
    keep = max(K, 1) + 1  # order 1 serves the population's S, order 0 the held-out means
    for i in range(len(blocks)):  # one block at a time: the full table is freed as we go
        blocks[i] = blocks[i][:keep]
    return blocks, K, bound, second, dmean


def _mehler_sum(ci, cj, r):
    """Σ_k r^k ∘ (C_k,I C_k,Jᵀ) by Horner's rule, highest order first, one fused pass.

    For the train tables the products of all orders are one batched product (no per-order
    copies of the tables); for one column (population) they are outer products, written
    out order by order so that they fuse into the sum instead of being stored.
    """
    if ci.shape[-1] == 1:
        g = [ci[k] * cj[k].T for k in range(ci.shape[0])]
    else:
        g = jnp.einsum("kbn,kcn->kbc", ci, cj)
    acc = g[-1]
    for k in range(ci.shape[0] - 2, -1, -1):
        acc = g[k] + r * acc
    return acc


@jax.jit
def _pair_block(ci, cj, R, i0, j0, scale):
    # the number of orders is static (the leading axis): one compile per order count
    b = ci.shape[1]
    r = jax.lax.dynamic_slice(R, (i0, j0), (b, b))
    return scale * _mehler_sum(ci, cj, r)


@jax.jit
def _diagonal_block(ci, R, i0, scale, diag):
    b = ci.shape[1]
    r = jax.lax.dynamic_slice(R, (i0, i0), (b, b))
    # formed once (the barrier keeps the sum from being fused twice, once transposed)
    acc = jax.lax.optimization_barrier(scale * _mehler_sum(ci, ci, r))
    acc = 0.5 * (acc + acc.T)  # exactly symmetric
    idx = jnp.arange(b)
    return acc.at[idx, idx].set(jax.lax.dynamic_slice_in_dim(diag, i0, b))


def mehler_matrix(blocks, R, K: int, scale: float, diag):
    """The symmetric p×p matrix Σ_{k≤K} R^k ∘ (scale · C_k C_kᵀ) off the diagonal.

    Args:
        blocks: row blocks of the coefficients, from :func:`coefficient_blocks` (or any
            list of nb arrays (≥ K+1, b, n) whose rows beyond p are padding).
        R: (p, p) correlations (its diagonal is not used), or the same with zero rows and
            columns appended up to the padded size of the blocks (saves a copy).
        K: truncation order (the series stops at R^K).
        scale: factor of every product (1/n for the train matrix).
        diag: (p,) values of the diagonal.

    Returns:
        The (p, p) JAX array, exactly symmetric, with ``diag`` on its diagonal.
    """
    nb, b = len(blocks), blocks[0].shape[1]
    p = diag.shape[0]
    Rp, diag = _padded(jnp.asarray(R), jnp.asarray(diag), nb * b)
    if blocks[0].shape[0] != K + 1:  # the tiles take exactly the orders 0..K
        blocks = [blk[: K + 1] for blk in blocks]
    scale = jnp.asarray(scale, dtype=jnp.float64)
    tiles = []
    for i in range(nb):
        tiles.append(_diagonal_block(blocks[i], Rp, i * b, scale, diag))
        tiles += [_pair_block(blocks[i], blocks[j], Rp, i * b, j * b, scale)
                  for j in range(i + 1, nb)]
    return _assemble(tuple(tiles), nb, p)


@functools.partial(jax.jit, static_argnums=2)
def _padded(R, diag, size):
    # R may come padded already (see :func:`mehler_matrix`); then it is passed through
    pad = size - R.shape[0]
    R = jnp.pad(R, ((0, pad), (0, pad))) if pad else R
    return R, jnp.pad(diag, (0, size - diag.shape[0]))


@functools.partial(jax.jit, static_argnums=(1, 2))
def _assemble(tiles, nb, p):
    # the upper tiles row by row (as built above), the lower ones their transposes
    upper, k = {}, 0
    for i in range(nb):
        for j in range(i, nb):
            upper[i, j] = tiles[k]
            k += 1
    rows = [[upper[i, j] if j >= i else upper[j, i].T for j in range(nb)] for i in range(nb)]
    return jnp.block(rows)[:p, :p]


def truncation(mean_sq_coeffs, second, rmax: float, tol: float, kmax: int):
    """Smallest K with rmax^{K+1} · max_i T_i(K) ≤ tol, T_i(K) the coefficient tail.

    T_i(K) = E σ² − Σ_{k≤K} c_k² (row means over ν) bounds Σ_{k>K} c_k², so that by
    Cauchy–Schwarz every off-diagonal entry omitted beyond order K is below the bound.

    Args:
        mean_sq_coeffs: (kmax+1, p) row means of c_k².
        second: (p,) row means of E σ².
        rmax: max |R_ij| over i ≠ j.
        tol: target bound.
        kmax: highest order available.

    Returns:
        ``(K, bound)``; K = kmax when the target is not met, with the bound achieved.
    """
    partial = np.cumsum(np.asarray(mean_sq_coeffs), axis=0)  # (kmax+1, p)
    tails = np.maximum(np.asarray(second)[None, :] - partial, 0.0).max(axis=1)
    bounds = rmax ** (np.arange(kmax + 1) + 1.0) * tails
    ok = np.nonzero(bounds <= tol)[0]
    K = int(ok[0]) if ok.size else kmax
    return K, float(bounds[K])


# a tail bound above this fraction of the matrix's scale (its mean diagonal) could show in
# the losses' sixth digit: warn; a bound below it but above mehler_tol is recorded only
WARN_RELATIVE = 1e-6


def check_truncation(what: str, bound: float, tol: float, kmax: int, scale: float, *,
                     throw: bool = False) -> Status:
    """The status of a Mehler truncation; a warning or an error when it misses its target.

    Args:
        what: the matrix (``"train"``, ``"population"``), named in the message.
        bound: the bound achieved at order ``kmax``.
        tol: the target (``mehler_tol``).
        kmax: the largest order considered (``max_mehler_terms``).
        scale: the mean diagonal entry of the matrix (E σ²).
        throw: raise :class:`rfdiff.NotConvergedError` whenever ``bound > tol``.

    Returns:
        :class:`rfdiff.Status`: ``SUCCESSFUL`` when ``bound <= tol``, else
        ``NOT_CONVERGED`` (with a RuntimeWarning naming the remedy when the bound also
        exceeds ``WARN_RELATIVE × scale``).

    Raises:
        NotConvergedError: with ``throw=True`` when the bound misses the target.
    """
    if bound <= tol:
        return Status.SUCCESSFUL
    msg = (f"finite_size_instance: the {what} Mehler series misses mehler_tol {tol:.3g} at "
           f"order {kmax} (tail bound {bound:.3g}, {bound / scale:.2g} of the mean "
           "diagonal); raise max_mehler_terms or d, or use method='monte_carlo'")
    if throw:
        raise NotConvergedError(msg)
    if bound > WARN_RELATIVE * scale:
        warnings.warn(msg, RuntimeWarning, stacklevel=4)
    return Status.NOT_CONVERGED


def off_diagonal_max(R) -> float:
    """max |R_ij| over i ≠ j (R symmetric)."""
    return float(_off_diagonal_max(jnp.asarray(R)))


@jax.jit
def _off_diagonal_max(R):
    i = jnp.arange(R.shape[0])
    return jnp.max(jnp.where(i[:, None] == i[None, :], 0.0, jnp.abs(R)))
