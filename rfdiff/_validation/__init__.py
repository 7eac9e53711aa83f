"""Validation by extrapolation: finite sizes over a ladder of d, fitted to d → ∞ and set
beside the theory."""

from .fit import Extrapolation, extrapolate
from .record import Validation, CURVE_NAMES
from .ladder import validate, DEFAULT_TAU, METHODS

__all__ = ["validate", "Validation", "Extrapolation", "extrapolate", "CURVE_NAMES",
           "DEFAULT_TAU", "METHODS"]
