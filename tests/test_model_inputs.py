"""Bad inputs to the model layer are refused up front with a message naming the argument
and the value; valid inputs of every numeric kind keep working."""

import re

import jax.numpy as jnp
import numpy as np
import pytest

import rfdiff
from rfdiff._common.validation import finite, positive, positive_int


@pytest.mark.parametrize("value", ["16", True, False, np.True_, np.array(True), b"1", 1 + 0j,
                                   np.complex128(1.0)])
def test_non_numbers_refused_by_the_shared_checks(value):
    for check in (finite, positive):
        with pytest.raises(ValueError, match=r"^x must be a real number, got ") as err:
            check("x", value)
        assert repr(value) in str(err.value)
    with pytest.raises(ValueError, match=r"^x must be a positive integer, got "):
        positive_int("x", value)


@pytest.mark.parametrize("value", [2, 2.5, np.float64(2.5), np.int64(2), np.float32(0.5),
                                   np.array(2.5), jnp.asarray(2.5)])
def test_numbers_accepted_by_the_shared_checks(value):
    assert positive("x", value) == float(value)
    assert type(positive("x", value)) is float


@pytest.mark.parametrize("field, args", [
    ("psi_p", ("16", 4, 0.1)),
    ("psi_p", (True, 4, 0.1)),
    ("psi_n", (4, np.True_, 0.1)),
    ("t", (4, 4, "0.1")),
])
def test_problem_refuses_bool_and_str(field, args):
    bad = args[["psi_p", "psi_n", "t"].index(field)]
    with pytest.raises(ValueError, match=rf"^{field} must be a real number, got ") as err:
        rfdiff.Problem(*args)
    assert repr(bad) in str(err.value)


def test_problem_accepts_numpy_and_0d_values():
    ref = rfdiff.Problem(4.0, 2.0, 0.1)
    for args in [(np.float64(4.0), np.int64(2), np.float64(0.1)), (4, 2, np.array(0.1)),
                 (np.array(4.0), 2.0, 0.1)]:
        p = rfdiff.Problem(*args)
        assert (p.psi_p, p.psi_n, p.t) == (ref.psi_p, ref.psi_n, ref.t)
        assert all(type(v) is float for v in (p.psi_p, p.psi_n, p.t))


@pytest.mark.parametrize("fn, reason", [
    (lambda x: jnp.nan * x, "non-finite values"),
    (lambda x: jnp.log(x), "non-finite values"),
    (lambda x: jnp.sum(x), r"returned shape \(\)"),
    (np.tanh, "TracerArrayConversionError"),
    (lambda x: undefined_name * x, "NameError"),  # noqa: F821
])
def test_unusable_activations_refused_when_built(fn, reason):
    name = getattr(fn, "__name__", "custom")
    for build in (lambda: rfdiff.Activation("mine", fn), lambda: rfdiff.activation(fn),
                  lambda: rfdiff.coefficients(fn, 0.1), lambda: rfdiff.Problem(4, 2, 0.1, fn)):
        with pytest.raises(ValueError, match="elementwise JAX-traceable") as err:
            build()
        message = str(err.value)
        assert "\n" not in message
        assert re.search(reason, message), message
        assert repr("mine") in message or repr(name) in message


def test_non_callable_activation_refused():
    with pytest.raises(ValueError, match="'mine'.*non-callable 3"):
        rfdiff.Activation("mine", 3)


@pytest.mark.parametrize("kinks", [("a",), (float("nan"),), 0.0, "0", ((0.0, 1.0),)])
def test_bad_kinks_refused(kinks):
    with pytest.raises(ValueError, match=r"^kinks must be a sequence of finite real numbers, "
                                         r"got ") as err:
        rfdiff.Activation("mine", lambda x: jnp.maximum(x, 0.0), kinks=kinks)
    assert repr(kinks) in str(err.value)


def test_valid_custom_activation_unchanged():
    # a custom relu with its kink given as an int in a list equals the shipped one's numbers
    custom = rfdiff.Activation("myrelu", lambda x: jnp.maximum(x, 0.0), kinks=[0])
    assert custom.kinks == (0.0,) and type(custom.kinks[0]) is float
    hash(custom)
    ours = rfdiff.coefficients(custom, 0.1).as_dict()
    ref = rfdiff.coefficients("relu", 0.1).as_dict()
    assert ours == ref
    smooth = rfdiff.coefficients(lambda x: jnp.tanh(x), 0.1).as_dict()
    assert smooth == rfdiff.coefficients("tanh", 0.1).as_dict()


@pytest.mark.parametrize("degree", [0, -3, 2.5, "300", True])
def test_degree_named(degree):
    with pytest.raises(ValueError, match=r"^degree must be a positive integer, got ") as err:
        rfdiff.coefficients("tanh", 0.1, degree=degree)
    assert repr(degree) in str(err.value)


def test_degree_accepts_numpy_int():
    ref = rfdiff.coefficients("tanh", 0.1, degree=60).as_dict()
    assert rfdiff.coefficients("tanh", 0.1, degree=np.int64(60)).as_dict() == ref
