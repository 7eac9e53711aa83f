"""Building blocks of the finite-size, phase and generation jobs.

- data spectra and activations: :func:`isotropic`, :func:`two_atom`, :func:`parse_spectrum`,
  ``ACTIVATIONS``;
- finite size: :func:`draw` (the seeded W, X), :func:`weights_at`, :func:`losses_of`,
  :func:`log_steps`; the noisy protocol against the flow: :func:`protocol_excess` (its
  predicted O(η) excess), :func:`protocol_measurement` (the excess measured over runs);
- real data: :func:`digits`, :func:`standardize`, :func:`real_data_comparison` and the
  statistical error of held-out losses, :func:`held_out_error`;
- timescales: :func:`first_crossing` (the one crossing rule), ``GLOSSARY`` (every
  definition by name), :func:`fit_power_law`, the default τ grids (``TIMESCALES_TAU``,
  ``GENERATION_TAU``, ...);
- phase diagrams: ``LABELS``, :func:`phase_labels`, :class:`Boundaries`,
  :func:`boundary_points`, :func:`confirm_points`, :func:`simulated_time_boundaries`,
  :func:`simulated_size_boundary`, and :class:`PhaseThresholds` (the phase subset of
  :class:`rfdiff.TimescaleDefinitions`, kept for existing code);
- generation: score models, samplers and sample metrics;
- validation: :class:`Validation` (the record of :func:`rfdiff.validate`), :func:`extrapolate`
  (the a + b/d fit) and its :class:`Extrapolation`.
"""

from ._model import (isotropic, two_atom, parse_spectrum, ACTIVATIONS)
from ._model import digits, standardize  # real data (scikit-learn extra)
from ._finite import (draw, weights_at, losses_of, log_steps)
from ._finite import (ProtocolExcess, ProtocolMeasurement, protocol_excess,
                      protocol_measurement)
from ._finite import RealDataComparison, real_data_comparison  # real data vs surrogate
from ._finite import HeldOutError, held_out_error  # statistical error of held-out losses
from ._timescales import (fit_power_law, first_crossing, GLOSSARY, TIMESCALES_TAU,
                          GENERATION_TAU, DIFFUSION_TIME_TAU, LOSS_TAU, reference_tau,
                          PhaseThresholds)
from ._phase import (LABELS, phase_labels, Boundaries, boundary_points, confirm_points,
                     simulated_time_boundaries, simulated_size_boundary)
from ._generation import (EmpiricalScore, GaussianScore, FeatureScore, Memorisation,
                          covariance_error, expected_covariance, limit_covariance, time_grid,
                          diffusion_times, field_weights, feature_score, onset_time,
                          degradation_time, describe_study, study_from_dict, gaussian_kl,
                          sliced_wasserstein, two_nearest, memorisation_fraction, sample_metrics)
from ._validation import Validation, Extrapolation, extrapolate

__all__ = [
    "sample_metrics",
    "ACTIVATIONS",
    "Boundaries",
    "boundary_points",
    "confirm_points",
    "covariance_error",
    "degradation_time",
    "describe_study",
    "DIFFUSION_TIME_TAU",
    "diffusion_times",
    "digits",
    "draw",
    "EmpiricalScore",
    "expected_covariance",
    "feature_score",
    "FeatureScore",
    "field_weights",
    "first_crossing",
    "fit_power_law",
    "gaussian_kl",
    "GaussianScore",
    "GENERATION_TAU",
    "GLOSSARY",
    "held_out_error",
    "HeldOutError",
    "isotropic",
    "LABELS",
    "limit_covariance",
    "log_steps",
    "ProtocolExcess",
    "ProtocolMeasurement",
    "protocol_excess",
    "protocol_measurement",
    "LOSS_TAU",
    "losses_of",
    "Memorisation",
    "memorisation_fraction",
    "onset_time",
    "parse_spectrum",
    "phase_labels",
    "PhaseThresholds",
    "RealDataComparison",
    "real_data_comparison",
    "reference_tau",
    "simulated_size_boundary",
    "simulated_time_boundaries",
    "sliced_wasserstein",
    "standardize",
    "study_from_dict",
    "time_grid",
    "TIMESCALES_TAU",
    "two_atom",
    "two_nearest",
    "weights_at",
    "Validation",
    "Extrapolation",
    "extrapolate",
]
