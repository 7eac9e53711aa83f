"""Phase diagrams of generalisation and memorisation, their boundaries and finite-size
confirmation."""

from .maps import (PhaseThresholds, PhaseMap, LABELS, phase_map_time, phase_map_size,
    time_boundaries, size_boundary, phase_labels)
from .boundaries import Boundaries
from .confirm import (confirm_points, simulated_phase, simulated_time_boundaries,
    simulated_size_boundary, boundary_points)
from .diffusion_time import DiffusionTimeDependence, diffusion_time_dependence

__all__ = [
    "PhaseThresholds",
    "PhaseMap",
    "LABELS",
    "phase_map_time",
    "phase_map_size",
    "time_boundaries",
    "size_boundary",
    "phase_labels",
    "Boundaries",
    "confirm_points",
    "simulated_phase",
    "simulated_time_boundaries",
    "simulated_size_boundary",
    "boundary_points",
    "DiffusionTimeDependence",
    "diffusion_time_dependence",
]
