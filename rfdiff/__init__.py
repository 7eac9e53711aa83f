"""rfdiff: analytical theory of diffusion models with random-features scores.

Every theory quantity has a finite-size twin computed with the same arguments. Results are
float64; importing rfdiff does not change JAX's global configuration (each public function
enables 64-bit types locally).
"""

from ._model.activations import ACTIVATIONS, Activation, activation
from ._theory.curves import AsymptoticCurves, asymptotic_curves
from ._theory.batched import batched_curves
from ._model.coefficients import Coefficients, coefficients
from ._timescales.curve import CurveTimescales, curve_timescales
from ._finite.flow import Curves, Flow, gradient_flow, learning_curves, losses_of, weights_at
from ._generation.study import (GenerationCurve, MemorisationStudy, degradation_time, describe_study,
                          generation_curve, memorisation_study, onset_time, study_from_dict)
from ._generation.metrics import (Memorisation, gaussian_kl, memorisation_fraction, sample_metrics,
                              sliced_wasserstein, two_nearest)
from ._generation.samplers import (EmpiricalScore, GaussianScore, covariance_error, expected_covariance,
                        limit_covariance, sample, time_grid)
from ._generation.score_field import (FeatureScore, ScoreField, diffusion_times, feature_score,
                           field_weights, score_field)
from ._finite.instance import Instance, draw, finite_size_instance
from ._common.memory import MemoryPlanError
from ._spectrum.leading_order import (ROLES, generalisation_density, generalisation_edges,
                             memorisation_density, memorisation_edges, population_params,
                             predicted_counts, predicted_masses)
from ._phase.maps import (LABELS, PhaseMap, PhaseThresholds, phase_labels, phase_map_size,
                     phase_map_time, size_boundary, time_boundaries)
from ._phase.confirm import (boundary_points, confirm_points, simulated_phase,
                             simulated_size_boundary, simulated_time_boundaries)
from ._phase.diffusion_time import DiffusionTimeDependence, diffusion_time_dependence
from ._model.problem import Problem
from ._model.data_spectrum import DataSpectrum, isotropic, parse_spectrum, two_atom
from .plot.spectrum import spectrum_figure
from ._theory.resolvent import (ResolventParams, ResolventResult, resolvent_core, resolvent_params,
                         solve_on_grid, solve_resolvent, spectral_density, spectral_scale)
from ._timescales.scaling import ScalingReport, fit_power_law, scaling_report
from ._spectrum.structure import (MeasureQuadrature, SpectralPart, SpectralStructure,
                         measure_quadrature, spectral_cdf, spectral_structure, wasserstein1)
from ._timescales.timescales import Timescales, spectral_timescales, timescales
from ._theory.two_point import OnePoint, TwoPoint, diagonal_two_point, one_point, two_point
from ._finite.training import gradient_descent, log_steps, noisy_training

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "AsymptoticCurves",
    "Coefficients",
    "CurveTimescales",
    "Curves",
    "DataSpectrum",
    "DiffusionTimeDependence",
    "EmpiricalScore",
    "FeatureScore",
    "Flow",
    "GaussianScore",
    "GenerationCurve",
    "Instance",
    "LABELS",
    "MeasureQuadrature",
    "Memorisation",
    "MemorisationStudy",
    "MemoryPlanError",
    "OnePoint",
    "PhaseMap",
    "PhaseThresholds",
    "Problem",
    "ROLES",
    "ResolventParams",
    "ResolventResult",
    "ScalingReport",
    "ScoreField",
    "SpectralPart",
    "SpectralStructure",
    "Timescales",
    "TwoPoint",
    "activation",
    "asymptotic_curves",
    "batched_curves",
    "boundary_points",
    "coefficients",
    "confirm_points",
    "covariance_error",
    "curve_timescales",
    "degradation_time",
    "describe_study",
    "diagonal_two_point",
    "diffusion_time_dependence",
    "diffusion_times",
    "draw",
    "expected_covariance",
    "feature_score",
    "field_weights",
    "finite_size_instance",
    "fit_power_law",
    "gaussian_kl",
    "generalisation_density",
    "generalisation_edges",
    "generation_curve",
    "gradient_descent",
    "gradient_flow",
    "isotropic",
    "learning_curves",
    "limit_covariance",
    "log_steps",
    "losses_of",
    "measure_quadrature",
    "memorisation_density",
    "memorisation_edges",
    "memorisation_fraction",
    "memorisation_study",
    "noisy_training",
    "one_point",
    "onset_time",
    "parse_spectrum",
    "phase_labels",
    "phase_map_size",
    "phase_map_time",
    "population_params",
    "predicted_counts",
    "predicted_masses",
    "resolvent_core",
    "resolvent_params",
    "sample",
    "sample_metrics",
    "scaling_report",
    "score_field",
    "simulated_phase",
    "simulated_size_boundary",
    "simulated_time_boundaries",
    "size_boundary",
    "sliced_wasserstein",
    "solve_on_grid",
    "solve_resolvent",
    "spectral_cdf",
    "spectral_density",
    "spectral_scale",
    "spectral_structure",
    "spectral_timescales",
    "spectrum_figure",
    "study_from_dict",
    "time_boundaries",
    "time_grid",
    "timescales",
    "two_atom",
    "two_nearest",
    "two_point",
    "wasserstein1",
    "weights_at",
]
