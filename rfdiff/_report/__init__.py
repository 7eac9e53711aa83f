"""The main job: the report folder."""

from .report import make_report

__all__ = [
    "make_report",
]
