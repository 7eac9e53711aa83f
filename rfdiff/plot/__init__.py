"""Plots of every rfdiff result (matplotlib, imported only when a figure is drawn).

Every function draws on an ``ax`` the caller owns (or returns a standalone
:class:`matplotlib.figure.Figure` from :func:`new_figure`) and leaves pyplot and rcParams
alone, so plots can be embedded in notebooks, reports and scripts alike.
"""

from .curves import new_figure, plot_curves, plot_real_data
from .generation import plot_memorisation, plot_quality
from .phase import (label_legend_handles, overlay_confirmation, plot_phase_diffusion_time,
                    plot_phase_size, plot_phase_time, plot_timescale_ratio)
from .spectrum import plot_density, plot_parts, spectrum_figure
from .timescales import plot_scaling_curves, plot_scaling_times
from .validation import plot_validation

__all__ = [
    "label_legend_handles",
    "new_figure",
    "overlay_confirmation",
    "plot_curves",
    "plot_density",
    "plot_memorisation",
    "plot_parts",
    "plot_phase_diffusion_time",
    "plot_phase_size",
    "plot_phase_time",
    "plot_quality",
    "plot_real_data",
    "plot_scaling_curves",
    "plot_scaling_times",
    "plot_timescale_ratio",
    "plot_validation",
    "spectrum_figure",
]
