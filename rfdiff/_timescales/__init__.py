"""Timescales of generalisation and memorisation, from the spectrum and from learning curves;
scaling."""

from .definitions import TimescaleDefinitions, PhaseThresholds, GLOSSARY
from .grids import TIMESCALES_TAU, GENERATION_TAU, DIFFUSION_TIME_TAU, LOSS_TAU, reference_tau
from .crossing import (DIRECTIONS, first_index, first_crossing, bisection_iterations,
    bisect_log, bisect_log_integer)
from .curve import CurveTimescales, curve_timescales
from .timescales import (Timescales, SpectralTimescales, timescales, spectral_timescales,
                         curve_grid)
from .scaling import ScalingReport, scaling_report, fit_power_law
from .local import LOCAL_KEYS, local_exponents, core_params

__all__ = [
    "LOCAL_KEYS",
    "local_exponents",
    "core_params",
    "TimescaleDefinitions",
    "PhaseThresholds",
    "GLOSSARY",
    "TIMESCALES_TAU",
    "GENERATION_TAU",
    "DIFFUSION_TIME_TAU",
    "LOSS_TAU",
    "reference_tau",
    "DIRECTIONS",
    "first_index",
    "first_crossing",
    "bisection_iterations",
    "bisect_log",
    "bisect_log_integer",
    "CurveTimescales",
    "curve_timescales",
    "Timescales",
    "SpectralTimescales",
    "timescales",
    "spectral_timescales",
    "curve_grid",
    "ScalingReport",
    "scaling_report",
    "fit_power_law",
]
