"""The public names of the spectrum structure under their earlier module path.

The structure is computed by :mod:`.pipeline` (support scan :mod:`.support`, edges
:mod:`.edges`, quadrature :mod:`.quadrature`, roles :mod:`.roles`) into the records of
:mod:`.records`; :mod:`.measures` and :mod:`.distributions` read a computed structure.
Import these names from :mod:`rfdiff._spectrum`.
"""

from .distributions import spectral_cdf, wasserstein1
from .measures import measure_quadrature
from .pipeline import spectral_structure
from .records import MeasureQuadrature, SpectralPart, SpectralStructure

__all__ = [
    "SpectralPart",
    "SpectralStructure",
    "MeasureQuadrature",
    "spectral_structure",
    "measure_quadrature",
    "spectral_cdf",
    "wasserstein1",
]
