"""rfdiff: analytical theory of diffusion models with random-features scores.

Every theory quantity has a finite-size twin computed with the same arguments. Results are
float64; importing rfdiff does not change JAX's global configuration (each public function
enables 64-bit types locally).
"""

from ._activations import ACTIVATIONS, Activation, activation
from ._coefficients import Coefficients, coefficients
from ._flow import Curves, Flow, gradient_flow, learning_curves, losses_of, weights_at
from ._instance import Instance, draw, finite_size_instance
from ._memory import MemoryPlanError
from ._problem import Problem
from ._spectrum_data import DataSpectrum, isotropic, parse_spectrum, two_atom
from ._training import gradient_descent, log_steps, noisy_training

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Coefficients",
    "Curves",
    "DataSpectrum",
    "Flow",
    "Instance",
    "MemoryPlanError",
    "Problem",
    "activation",
    "coefficients",
    "draw",
    "finite_size_instance",
    "gradient_descent",
    "gradient_flow",
    "isotropic",
    "learning_curves",
    "log_steps",
    "losses_of",
    "noisy_training",
    "parse_spectrum",
    "two_atom",
    "weights_at",
]
