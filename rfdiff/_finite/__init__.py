"""Finite size: exact, Monte-Carlo and Gaussian-equivalent instances, the exact gradient flow,
discrete training and the excess of the noisy protocol over the flow."""

from .instance import Instance, finite_size_instance, draw
from .flow import (Flow, Curves, gradient_flow, learning_curves, weights_at, losses_of,
                   phi1)
from .training import gradient_descent, noisy_training, log_steps
from .held_out import HeldOutError, held_out_error
from .real_data import RealDataComparison, real_data_comparison
from .given import given_arrays
from .protocol import (Losses, ProtocolExcess, ProtocolMeasurement, protocol_excess,
                       protocol_measurement)

__all__ = [
    "given_arrays",
    "Instance",
    "finite_size_instance",
    "draw",
    "Flow",
    "Curves",
    "gradient_flow",
    "learning_curves",
    "weights_at",
    "losses_of",
    "phi1",
    "gradient_descent",
    "noisy_training",
    "log_steps",
    "Losses",
    "ProtocolExcess",
    "ProtocolMeasurement",
    "protocol_excess",
    "protocol_measurement",
    "HeldOutError",
    "held_out_error",
    "RealDataComparison",
    "real_data_comparison",
]
