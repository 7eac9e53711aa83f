"""The fast routes of the exact construction against their plain definitions.

- the paired-node coefficient kernel (addition theorem for tanh, trimmed outer nodes for
  bounded activations, direct evaluation otherwise) against the plain Gauss–Hermite
  projection on all nodes (``_coeff_kernel`` without the closed forms);
- the two-pass truncation against the truncation on all orders;
- the symmetric congruence QᵀAQ of the loss forms against two plain products.

Tolerances: every quantity is O(1) (|σ| ≤ 1 or moderate arguments) and both sides are sums
of ≤ 200 terms of that size, so they agree to a few 1e-16; 1e-14 leaves room for the
different summation orders and still fails for any error in a formula (those show at
1e-3 or more).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rfdiff
from rfdiff._finite.mehler import (
    _coeff_kernel,
    coefficient_blocks,
    truncated_coefficients,
    truncation,
)
from rfdiff._finite.node_pairs import _paired_rule, paired_kernel


def _inputs(rows, cols, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    m = scale * rng.standard_normal((rows, cols))
    s = 0.2 + 0.6 * rng.random(rows)
    return jnp.asarray(m), jnp.asarray(s)


def _reference(act, m, s, kmax, degree):
    c, second, deriv = _coeff_kernel(act, kmax, degree, False)(
        m, jnp.broadcast_to(s[:, None], m.shape))
    return np.asarray(c), np.asarray(second).mean(axis=1), np.asarray(deriv).mean(axis=1)


@pytest.mark.parametrize("name, degree, scale", [
    ("tanh", 200, 1.0),     # addition theorem, trimmed nodes (the default route)
    ("tanh", 51, 1.0),      # odd rule: the node 0 paired with itself
    ("tanh", 60, 400.0),    # arguments beyond the addition form: the direct fallback
    ("erf", 80, 1.0),       # bounded: trimmed nodes, direct evaluation
    ("gelu", 80, 1.0),      # unbounded: all nodes, direct evaluation
])
def test_paired_kernel_matches_plain_quadrature(name, degree, scale):
    act = rfdiff.activation(name)
    kmax, sub = 12, 2
    with jax.enable_x64(True):
        m, s = _inputs(6, 5, scale)
        out = paired_kernel(act, kmax, degree, sub)(m, s)
        c, msq, second, deriv = (np.asarray(x) for x in out)
        ref_c, ref_second, ref_deriv = _reference(act, m, s, kmax, degree)
    tol = 1e-14 * (1.0 if name != "gelu" else 10.0)  # gelu: σ grows with its argument
    assert np.max(np.abs(c - ref_c)) < tol
    assert np.max(np.abs(second - ref_second)) < tol
    assert np.max(np.abs(deriv - ref_deriv)) < tol
    np.testing.assert_allclose(msq, (ref_c**2).mean(axis=-1), rtol=0, atol=tol)


def test_trimmed_rule_drops_only_negligible_pairs():
    # what the omitted pairs could add to any coefficient is below the stated bound, and
    # the trimmed rule is a proper subset of the pairs
    from rfdiff._finite import node_pairs
    from rfdiff._model.quadrature import normalized_hermite

    u_all, w_all, _, _ = _paired_rule(200, 40, False)
    u, _, _, total = _paired_rule(200, 40, True)
    assert 0 < u.size < u_all.size and total == pytest.approx(1.0, abs=1e-14)
    left_out = slice(u.size, None)
    with jax.enable_x64(True):
        h = np.abs(np.asarray(normalized_hermite(jnp.asarray(u_all[left_out]), 40)))
    assert 2 * np.sum(w_all[left_out] * h.max(axis=0)) <= node_pairs._TRIM


@pytest.mark.parametrize("tol", [1e-10, 1e-15])
def test_two_pass_truncation_equals_truncation_on_all_orders(tol):
    # 1e-10 is met within the first pass; 1e-15 is not (second pass with every order)
    act = rfdiff.activation("tanh")
    kmax, degree, layout = 30, 80, (2, 6, 2)
    with jax.enable_x64(True):
        m, s = _inputs(11, 4)
        rmax = 0.6
        blocks, K, bound, _, dmean = truncated_coefficients(act, m, s, rmax, tol, kmax,
                                                                 degree, layout)
        full, msq, second_all, dmean_all = coefficient_blocks(act, m, s, kmax, degree, layout)
    K_all, bound_all = truncation(msq, second_all, rmax, tol, kmax)
    from rfdiff._finite.mehler import _FIRST_ORDERS
    assert (K <= _FIRST_ORDERS) == (tol == 1e-10)  # each tolerance takes its route
    assert (K, bound) == pytest.approx((K_all, bound_all), rel=1e-12)
    assert blocks[0].shape[0] == max(K, 1) + 1
    for blk, ref in zip(blocks, full):
        assert np.max(np.abs(np.asarray(blk) - np.asarray(ref)[: blk.shape[0]])) < 1e-14
    np.testing.assert_allclose(np.asarray(dmean), np.asarray(dmean_all), rtol=0, atol=1e-14)


def test_symmetric_congruence_equals_plain_products():
    from rfdiff._finite import flow

    rng = np.random.default_rng(1)
    p = 700  # two panels of 512 rows: one full, one partial
    a = rng.standard_normal((p, p))
    A = a @ a.T / p
    Q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    with jax.enable_x64(True):
        got = np.asarray(jax.jit(flow._congruence)(jnp.asarray(A), jnp.asarray(Q)))
    ref = Q.T @ A @ Q
    assert np.array_equal(got, got.T)
    assert np.max(np.abs(got - ref)) < 1e-12 * np.max(np.abs(ref))
