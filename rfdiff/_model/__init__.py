"""The model: problem description, activations, Gaussian-equivalence coefficients, data
spectrum, quadrature."""

from .quadrature import gauss_hermite, nodes_and_weights, normalized_hermite
from .activations import Activation, activation, ACTIVATIONS
from .data_spectrum import DataSpectrum, isotropic, two_atom, parse_spectrum
from .coefficients import Coefficients, coefficients, compute_coefficients
from .problem import Problem
from .datasets import digits, standardize

__all__ = [
    "gauss_hermite",
    "nodes_and_weights",
    "normalized_hermite",
    "Activation",
    "activation",
    "ACTIVATIONS",
    "DataSpectrum",
    "isotropic",
    "two_atom",
    "parse_spectrum",
    "Coefficients",
    "coefficients",
    "compute_coefficients",
    "Problem",
    "digits",
    "standardize",
]
