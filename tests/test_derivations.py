"""Run the symbolic derivations in derivations/ and compare their closed forms with rfdiff."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # derivations/ is a top-level folder, not installed

from derivations import ge_constants  # noqa: E402
from rfdiff._model.coefficients import coefficients  # noqa: E402
from rfdiff._model.data_spectrum import DataSpectrum  # noqa: E402

FIELDS = ("mu0", "a", "b", "v2", "s2")

# The closed forms are evaluated at 50 digits, so they are exact to double precision. The
# library uses degree-120 quadrature, documented to 1e-12 relative for smooth activations
# and 1e-10 for relu; on these grids the observed deviation is at most ~1e-12. rtol = 1e-10
# leaves room for float64 rounding in the residual sums (v², s² are small at small and
# large t) while being many orders below any error in a formula (a missing factor of 2,
# κ² for κ, or Δ for Δ² moves the constants by 1e-3 or more).
RTOL = 1e-10
TIMES = (0.01, 0.1, 0.5, 1.0, 3.0)


def _assert_matches(lib, ref, label):
    for name, want in zip(FIELDS, ref):
        got = float(getattr(lib, name))
        if want == 0.0:
            assert abs(got) < 1e-14, f"{label}: {name} = {got!r}, expected 0"
        else:
            assert abs(got - want) <= RTOL * abs(want), \
                f"{label}: {name} = {got!r}, closed form {want!r} (rel {abs(got / want - 1):.2e})"


@pytest.mark.parametrize("module", ["loss_quadratic", "score_identity", "ge_constants",
                                    "leading_order"])
def test_derivation(module):
    importlib.import_module(f"derivations.{module}").check()


@pytest.mark.parametrize("kappa", [0.5, 1.0, 1.5])
@pytest.mark.parametrize("t", TIMES)
def test_erf_constants_match_closed_form(t, kappa):
    lib = coefficients("erf", t, DataSpectrum((kappa,), (1.0,)))
    _assert_matches(lib, ge_constants.erf_constants(t, kappa), f"erf t={t} κ={kappa}")


@pytest.mark.parametrize("kappa", [0.5, 1.0, 2.5])
@pytest.mark.parametrize("t", TIMES)
def test_relu_constants_match_closed_form(t, kappa):
    lib = coefficients("relu", t, DataSpectrum((kappa,), (1.0,)))
    _assert_matches(lib, ge_constants.relu_constants(t, kappa), f"relu t={t} κ={kappa}")


@pytest.mark.parametrize("t", [0.05, 1.0])
def test_constants_depend_on_spectrum_only_through_kappa(t):
    two_atom = DataSpectrum((0.5, 3.0), (0.6, 0.4))           # κ = 1.5
    for act, ref in (("erf", ge_constants.erf_constants), ("relu", ge_constants.relu_constants)):
        _assert_matches(coefficients(act, t, two_atom), ref(t, 1.5), f"{act} two-atom t={t}")


@pytest.mark.parametrize("t", [0.01, 1.0])
def test_linear_constants(t):
    lib = coefficients("linear", t, DataSpectrum((2.0,), (1.0,)))
    delta = -math.expm1(-2 * t)
    _assert_matches(lib, (0.0, 1.0, math.sqrt(delta), 0.0, 0.0), f"linear t={t}")


# small t with large κ: the regime where a low quadrature degree loses accuracy
def test_erf_constants_large_kappa_small_t():
    lib = coefficients("erf", 0.01, DataSpectrum((4.0,), (1.0,)))
    _assert_matches(lib, ge_constants.erf_constants(0.01, 4.0), "erf t=0.01 κ=4")
