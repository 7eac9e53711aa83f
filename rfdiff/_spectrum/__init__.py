"""Structure of the limiting spectrum of U: support, edges, parts, their roles, measures and
distribution functions."""

from .records import SpectralPart, SpectralStructure, MeasureQuadrature
from .pipeline import spectral_structure
from .measures import measure_quadrature
from .distributions import spectral_cdf, wasserstein1
from .counts import ROLES, predicted_counts, predicted_masses
from .implicit_edges import EDGE_ROLES, BulkEdges, bulk_edges_core, Edges, edges
from .leading_order import (memorisation_edges, memorisation_density, generalisation_edges,
    generalisation_density, population_params)

__all__ = [
    "SpectralPart",
    "SpectralStructure",
    "MeasureQuadrature",
    "spectral_structure",
    "measure_quadrature",
    "spectral_cdf",
    "wasserstein1",
    "ROLES",
    "predicted_counts",
    "predicted_masses",
    "memorisation_edges",
    "memorisation_density",
    "generalisation_edges",
    "generalisation_density",
    "population_params",
    "EDGE_ROLES",
    "BulkEdges",
    "bulk_edges_core",
    "Edges",
    "edges",
]
