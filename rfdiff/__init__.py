"""rfdiff: analytical theory of diffusion models with random-features scores.

Every theory quantity has a finite-size twin computed with the same arguments. Results are
float64; importing rfdiff does not change JAX's global configuration (each public function
enables 64-bit types locally).

The namespace holds one entry point per job and its records:

- the model: :class:`Problem`, :class:`DataSpectrum`, :func:`coefficients`, :func:`activation`;
- results and their status: :class:`Curves` (theory and finite size alike), :class:`Status`,
  :class:`NotConvergedError`, :class:`MemoryPlanError`;
- the limit d → ∞: :func:`asymptotic_curves`, :func:`spectral_density`,
  :func:`spectral_structure`;
- finite size: :func:`finite_size_instance`, :func:`gradient_flow`, :func:`learning_curves`,
  :func:`gradient_descent`, :func:`noisy_training`;
- timescales: :class:`TimescaleDefinitions` (every definition of τ_gen and τ_mem, by name),
  :func:`timescales`, :func:`curve_timescales`, :func:`scaling_report`;
- phase diagrams: :func:`phase_map_time`, :func:`phase_map_size`, :func:`time_boundaries`,
  :func:`size_boundary`, :func:`simulated_phase`, :func:`diffusion_time_dependence`;
- generation: :func:`score_field`, :func:`sample`, :func:`generation_curve`,
  :func:`memorisation_study` (the sample metrics are in :mod:`rfdiff.tools`).

Three namespaces hold the rest: :mod:`rfdiff.core` (the theory's solvers and building blocks),
:mod:`rfdiff.tools` (building blocks of the finite-size, phase and generation jobs) and
:mod:`rfdiff.plot` (figures; matplotlib is imported only when one is drawn).
"""

import importlib as _importlib
import warnings as _warnings

from ._model import (Problem, DataSpectrum, Coefficients, coefficients, Activation,
                     activation)
from ._common import (Curves, Status, NotConvergedError, MemoryPlanError)
from ._theory import (asymptotic_curves, spectral_density)
from ._spectrum import (spectral_structure, SpectralStructure)
from ._finite import (finite_size_instance, Instance, gradient_flow, Flow, learning_curves,
                      gradient_descent, noisy_training)
from ._timescales import (TimescaleDefinitions, timescales, Timescales, curve_timescales,
                          CurveTimescales, scaling_report, ScalingReport)
from ._phase import (phase_map_time, phase_map_size, PhaseMap, time_boundaries, size_boundary,
                     simulated_phase, diffusion_time_dependence, DiffusionTimeDependence)
from ._generation import (score_field, ScoreField, sample, generation_curve, GenerationCurve,
                          memorisation_study, MemorisationStudy)
from ._io import load
from ._validation import validate

__all__ = [
    "Activation",
    "activation",
    "asymptotic_curves",
    "Coefficients",
    "coefficients",
    "curve_timescales",
    "Curves",
    "CurveTimescales",
    "DataSpectrum",
    "diffusion_time_dependence",
    "DiffusionTimeDependence",
    "finite_size_instance",
    "Flow",
    "generation_curve",
    "GenerationCurve",
    "gradient_descent",
    "gradient_flow",
    "Instance",
    "learning_curves",
    "load",
    "memorisation_study",
    "MemorisationStudy",
    "MemoryPlanError",
    "noisy_training",
    "NotConvergedError",
    "phase_map_size",
    "phase_map_time",
    "PhaseMap",
    "Problem",
    "sample",
    "scaling_report",
    "ScalingReport",
    "score_field",
    "ScoreField",
    "simulated_phase",
    "size_boundary",
    "spectral_density",
    "spectral_structure",
    "SpectralStructure",
    "Status",
    "time_boundaries",
    "TimescaleDefinitions",
    "timescales",
    "Timescales",
    "validate",
]

from ._common.version import VERSION as __version__  # noqa: F401 (re-exported)

# Names of the 0.1 namespace that moved: they still resolve here for one release, with a
# DeprecationWarning naming their new home (docs/changelog.md lists them).
_MOVED = {
    "sample_metrics": ("tools", "rfdiff.tools.sample_metrics"),
    "ACTIVATIONS": ("tools", "rfdiff.tools.ACTIVATIONS"),
    "AsymptoticCurves": ("Curves", "rfdiff.Curves"),
    "batched_curves": ("core", "rfdiff.core.batched_curves"),
    "boundary_points": ("tools", "rfdiff.tools.boundary_points"),
    "confirm_points": ("tools", "rfdiff.tools.confirm_points"),
    "covariance_error": ("tools", "rfdiff.tools.covariance_error"),
    "degradation_time": ("tools", "rfdiff.tools.degradation_time"),
    "describe_study": ("tools", "rfdiff.tools.describe_study"),
    "diagonal_two_point": ("core", "rfdiff.core.diagonal_two_point"),
    "diffusion_times": ("tools", "rfdiff.tools.diffusion_times"),
    "draw": ("tools", "rfdiff.tools.draw"),
    "EmpiricalScore": ("tools", "rfdiff.tools.EmpiricalScore"),
    "expected_covariance": ("tools", "rfdiff.tools.expected_covariance"),
    "feature_score": ("tools", "rfdiff.tools.feature_score"),
    "FeatureScore": ("tools", "rfdiff.tools.FeatureScore"),
    "field_weights": ("tools", "rfdiff.tools.field_weights"),
    "fit_power_law": ("tools", "rfdiff.tools.fit_power_law"),
    "gaussian_kl": ("tools", "rfdiff.tools.gaussian_kl"),
    "GaussianScore": ("tools", "rfdiff.tools.GaussianScore"),
    "generalisation_density": ("core", "rfdiff.core.generalisation_density"),
    "generalisation_edges": ("core", "rfdiff.core.generalisation_edges"),
    "isotropic": ("tools", "rfdiff.tools.isotropic"),
    "LABELS": ("tools", "rfdiff.tools.LABELS"),
    "limit_covariance": ("tools", "rfdiff.tools.limit_covariance"),
    "log_steps": ("tools", "rfdiff.tools.log_steps"),
    "losses_of": ("tools", "rfdiff.tools.losses_of"),
    "measure_quadrature": ("core", "rfdiff.core.measure_quadrature"),
    "MeasureQuadrature": ("core", "rfdiff.core.MeasureQuadrature"),
    "Memorisation": ("tools", "rfdiff.tools.Memorisation"),
    "memorisation_density": ("core", "rfdiff.core.memorisation_density"),
    "memorisation_edges": ("core", "rfdiff.core.memorisation_edges"),
    "memorisation_fraction": ("tools", "rfdiff.tools.memorisation_fraction"),
    "one_point": ("core", "rfdiff.core.one_point"),
    "OnePoint": ("core", "rfdiff.core.OnePoint"),
    "onset_time": ("tools", "rfdiff.tools.onset_time"),
    "parse_spectrum": ("tools", "rfdiff.tools.parse_spectrum"),
    "phase_labels": ("tools", "rfdiff.tools.phase_labels"),
    "PhaseThresholds": ("tools", "rfdiff.tools.PhaseThresholds"),
    "population_params": ("core", "rfdiff.core.population_params"),
    "predicted_counts": ("core", "rfdiff.core.predicted_counts"),
    "predicted_masses": ("core", "rfdiff.core.predicted_masses"),
    "resolvent_core": ("core", "rfdiff.core.resolvent_core"),
    "resolvent_params": ("core", "rfdiff.core.resolvent_params"),
    "ResolventParams": ("core", "rfdiff.core.ResolventParams"),
    "ResolventResult": ("core", "rfdiff.core.ResolventResult"),
    "ROLES": ("core", "rfdiff.core.ROLES"),
    "simulated_size_boundary": ("tools", "rfdiff.tools.simulated_size_boundary"),
    "simulated_time_boundaries": ("tools", "rfdiff.tools.simulated_time_boundaries"),
    "sliced_wasserstein": ("tools", "rfdiff.tools.sliced_wasserstein"),
    "solve_on_grid": ("core", "rfdiff.core.solve_on_grid"),
    "solve_resolvent": ("core", "rfdiff.core.solve_resolvent"),
    "spectral_cdf": ("core", "rfdiff.core.spectral_cdf"),
    "spectral_scale": ("core", "rfdiff.core.spectral_scale"),
    "spectral_timescales": ("core", "rfdiff.core.spectral_timescales"),
    "SpectralPart": ("core", "rfdiff.core.SpectralPart"),
    "spectrum_figure": ("plot", "rfdiff.plot.spectrum_figure"),
    "study_from_dict": ("tools", "rfdiff.tools.study_from_dict"),
    "time_grid": ("tools", "rfdiff.tools.time_grid"),
    "two_atom": ("tools", "rfdiff.tools.two_atom"),
    "two_nearest": ("tools", "rfdiff.tools.two_nearest"),
    "two_point": ("core", "rfdiff.core.two_point"),
    "TwoPoint": ("core", "rfdiff.core.TwoPoint"),
    "wasserstein1": ("core", "rfdiff.core.wasserstein1"),
    "weights_at": ("tools", "rfdiff.tools.weights_at"),
}


def __getattr__(name):
    if name in ("core", "tools", "plot"):
        return _importlib.import_module(f"rfdiff.{name}")
    if name in _MOVED:
        home, new = _MOVED[name]
        _warnings.warn(f"rfdiff.{name} is deprecated and will be removed in 0.3; use {new}",
                       DeprecationWarning, stacklevel=2)
        if home == "Curves":
            return Curves
        return getattr(_importlib.import_module(f"rfdiff.{home}"), name)
    raise AttributeError(f"module 'rfdiff' has no attribute {name!r}")


def __dir__():
    return sorted(set(__all__) | {"core", "tools", "plot", "__version__"})
