"""Generation from learned scores: score fields, samplers, sample metrics, memorisation
studies."""

from .metrics import (Memorisation, two_nearest, memorisation_fraction, gaussian_kl,
    sliced_wasserstein, sample_metrics)
from .samplers import (METHODS, SCHEDULES, GaussianScore, EmpiricalScore, time_grid, sample,
    expected_covariance, limit_covariance, covariance_error)
from .score_field import (ScoreField, FeatureScore, diffusion_times, score_field,
    field_weights, feature_score)
from .study import (GenerationCurve, MemorisationStudy, generation_curve, memorisation_study,
    onset_time, degradation_time, describe_study, study_from_dict, DEFAULT_TAU)

__all__ = [
    "Memorisation",
    "two_nearest",
    "memorisation_fraction",
    "gaussian_kl",
    "sliced_wasserstein",
    "sample_metrics",
    "METHODS",
    "SCHEDULES",
    "GaussianScore",
    "EmpiricalScore",
    "time_grid",
    "sample",
    "expected_covariance",
    "limit_covariance",
    "covariance_error",
    "ScoreField",
    "FeatureScore",
    "diffusion_times",
    "score_field",
    "field_weights",
    "feature_score",
    "GenerationCurve",
    "MemorisationStudy",
    "generation_curve",
    "memorisation_study",
    "onset_time",
    "degradation_time",
    "describe_study",
    "study_from_dict",
    "DEFAULT_TAU",
]
