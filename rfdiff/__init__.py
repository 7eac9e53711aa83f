"""rfdiff: analytical theory of diffusion models with random-features scores.

Every theory quantity has a finite-size twin computed with the same arguments. Results are
float64; importing rfdiff does not change JAX's global configuration (each public function
enables 64-bit types locally).
"""

from ._activations import ACTIVATIONS, Activation, activation
from ._asymptotic_curves import AsymptoticCurves, asymptotic_curves
from ._batched_theory import batched_curves
from ._coefficients import Coefficients, coefficients
from ._curve_timescales import CurveTimescales, curve_timescales
from ._flow import Curves, Flow, gradient_flow, learning_curves, losses_of, weights_at
from ._instance import Instance, draw, finite_size_instance
from ._memory import MemoryPlanError
from ._leading_order import (ROLES, generalisation_density, generalisation_edges,
                             memorisation_density, memorisation_edges, population_params,
                             predicted_counts, predicted_masses)
from ._phase import (LABELS, PhaseMap, PhaseThresholds, phase_labels, phase_map_size,
                     phase_map_time, size_boundary, time_boundaries)
from ._phase_confirm import confirm_points, simulated_phase
from ._problem import Problem
from ._spectrum_data import DataSpectrum, isotropic, parse_spectrum, two_atom
from ._plot_spectrum import spectrum_figure
from ._resolvent import (ResolventParams, ResolventResult, resolvent_core, resolvent_params,
                         solve_on_grid, solve_resolvent, spectral_density, spectral_scale)
from ._scaling import ScalingReport, fit_power_law, scaling_report
from ._structure import (MeasureQuadrature, SpectralPart, SpectralStructure,
                         measure_quadrature, spectral_cdf, spectral_structure, wasserstein1)
from ._timescales import Timescales, spectral_timescales, timescales
from ._two_point import OnePoint, TwoPoint, diagonal_two_point, one_point, two_point
from ._training import gradient_descent, log_steps, noisy_training

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "AsymptoticCurves",
    "Coefficients",
    "CurveTimescales",
    "Curves",
    "DataSpectrum",
    "Flow",
    "Instance",
    "LABELS",
    "MeasureQuadrature",
    "MemoryPlanError",
    "OnePoint",
    "PhaseMap",
    "PhaseThresholds",
    "Problem",
    "ROLES",
    "ResolventParams",
    "ResolventResult",
    "ScalingReport",
    "SpectralPart",
    "SpectralStructure",
    "Timescales",
    "TwoPoint",
    "activation",
    "asymptotic_curves",
    "batched_curves",
    "coefficients",
    "confirm_points",
    "curve_timescales",
    "diagonal_two_point",
    "draw",
    "finite_size_instance",
    "fit_power_law",
    "generalisation_density",
    "generalisation_edges",
    "gradient_descent",
    "gradient_flow",
    "isotropic",
    "learning_curves",
    "log_steps",
    "losses_of",
    "measure_quadrature",
    "memorisation_density",
    "memorisation_edges",
    "noisy_training",
    "one_point",
    "parse_spectrum",
    "phase_labels",
    "phase_map_size",
    "phase_map_time",
    "population_params",
    "predicted_counts",
    "predicted_masses",
    "resolvent_core",
    "resolvent_params",
    "scaling_report",
    "simulated_phase",
    "size_boundary",
    "solve_on_grid",
    "solve_resolvent",
    "spectral_cdf",
    "spectral_density",
    "spectral_scale",
    "spectral_structure",
    "spectral_timescales",
    "spectrum_figure",
    "time_boundaries",
    "timescales",
    "two_atom",
    "two_point",
    "wasserstein1",
    "weights_at",
]
