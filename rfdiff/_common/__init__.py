"""Shared machinery: argument checks, float64 evaluation, memory planning, loops of tasks
on an executor."""

from .validation import positive, nonnegative, finite, positive_int, seed_int
from .x64 import float64, to_numpy
from .status import Status, NotConvergedError, status_of, check_converged
from .curves import Curves, CURVE_KEYS
from .memory import available_bytes, check_fits, MemoryPlanError
from .executor import map_tasks, check_executor, check_picklable

__all__ = [
    "Curves",
    "CURVE_KEYS",
    "Status",
    "NotConvergedError",
    "status_of",
    "check_converged",
    "positive",
    "nonnegative",
    "finite",
    "positive_int",
    "seed_int",
    "float64",
    "to_numpy",
    "available_bytes",
    "check_fits",
    "MemoryPlanError",
    "map_tasks",
    "check_executor",
    "check_picklable",
]
