"""Records of the spectrum structure: parts, the structure, measure quadratures."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from .._common import Status

__all__ = ["SpectralPart", "SpectralStructure", "MeasureQuadrature"]


@dataclasses.dataclass(frozen=True)
class SpectralPart:
    """One part of the spectrum of U.

    Attributes:
        kind: ``"atom"`` or ``"bulk"``.
        role: one of ``s2_atom``, ``d_component``, ``memorisation``, ``feature_only``,
            ``generalisation``, ``outlier``, a ``+``-joined merge of consecutive roles,
            or ``unidentified``.
        lo, hi: edges (equal for atoms).
        mass: fraction of the p eigenvalues (0 for the outlier).
        predicted_mass: the mass predicted from eigenvalue counts (None if unidentified).
        count: eigenvalues it holds at the dimension d of the structure (None without d):
            the predicted count, or round(mass · p) for a fragment.
        edge_error: estimated absolute error of the edges (nan for the outlier estimate).
        necks: interior points where the density dips towards 0 (parts touching).
        fragment: ``(k, K)`` when one predicted part is split over K bulks (this is the
            k-th); its count then follows from its mass.
    """

    kind: str
    role: str
    lo: float
    hi: float
    mass: float
    predicted_mass: float | None = None
    count: int | None = None
    edge_error: float = 0.0
    necks: tuple[float, ...] = ()
    fragment: tuple[int, int] | None = None

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return {"kind": self.kind, "role": self.role, "lo": self.lo, "hi": self.hi,
                "mass": self.mass, "predicted_mass": self.predicted_mass,
                "count": self.count, "edge_error": self.edge_error,
                "necks": list(self.necks),
                "fragment": list(self.fragment) if self.fragment else None}


class _BulkQuadrature(NamedTuple):
    lam: np.ndarray
    weight: np.ndarray     # dλ weights
    part: np.ndarray       # index into SpectralStructure.parts
    rho: np.ndarray        # Im q/π (atom Lorentzian removed)
    nu_s: np.ndarray       # Im s/π
    nu_r: np.ndarray       # Im r/π (not divided by κ)
    converged: bool


@dataclasses.dataclass(frozen=True)
class SpectralStructure:
    """The parts of the spectrum, in increasing λ.

    Attributes:
        parts: tuple of :class:`SpectralPart`.
        d: dimension used for the counts (None if not given).
        total_mass: sum of the masses of all parts (1 up to quadrature error).
        converged: every solve converged, every edge was refined by the fold condition,
            the quadrature met its tolerance and the masses add up to 1.
        notes: human-readable remarks (merged parts, fallbacks, unmatched masses).
        kappa: κ = Tr Σ/d (normalisation of ν_r).
        quadrature: the bulk quadrature nodes with ρ, ν_s, ν_r densities, used by
            :func:`measure_quadrature` (not part of the comparison of structures).
    """

    parts: tuple[SpectralPart, ...]
    d: int | None
    total_mass: float
    converged: bool
    notes: tuple[str, ...] = ()
    kappa: float = 1.0
    quadrature: _BulkQuadrature | None = dataclasses.field(default=None, repr=False,
                                                           compare=False)

    @property
    def status(self) -> Status:
        """:class:`rfdiff.Status` of the computation (``converged`` as an enumeration)."""
        return Status.SUCCESSFUL if self.converged else Status.NOT_CONVERGED

    @property
    def bulks(self) -> tuple[SpectralPart, ...]:
        """The bulk parts."""
        return tuple(p for p in self.parts if p.kind == "bulk")

    @property
    def atoms(self) -> tuple[SpectralPart, ...]:
        """The atoms (the outlier included)."""
        return tuple(p for p in self.parts if p.kind == "atom")

    @property
    def merged(self) -> bool:
        """True when some bulk holds several predicted parts."""
        return any("+" in p.role for p in self.parts)

    def part(self, role: str) -> SpectralPart | None:
        """The part whose role is ``role`` or contains it in a merge (None if absent)."""
        for p in self.parts:
            if role == p.role or role in p.role.split("+"):
                return p
        return None

    def as_dicts(self) -> list[dict]:
        """The parts as JSON-ready dicts."""
        return [p.as_dict() for p in self.parts]


@dataclasses.dataclass(frozen=True)
class MeasureQuadrature:
    """Quadrature of a normalised spectral measure (ρ, ν_s or ν_r).

    ∫ f dν ≈ Σ weights · f(nodes) + Σ atom_masses · f(atom_locations).

    Attributes:
        which: ``"q"``, ``"s"`` or ``"r"``.
        nodes, weights: bulk nodes and weights.
        part: index into ``structure.parts`` of the bulk holding each node.
        atom_locations, atom_masses: atoms of the measure.
        total: Σ weights + Σ atom_masses (1 up to quadrature error).
        converged: every solve converged and the quadrature met its tolerance.
        structure: the :class:`SpectralStructure` the nodes belong to.
    """

    which: str
    nodes: np.ndarray
    weights: np.ndarray
    part: np.ndarray
    atom_locations: np.ndarray
    atom_masses: np.ndarray
    total: float
    converged: bool
    structure: SpectralStructure = dataclasses.field(repr=False)

    @property
    def status(self) -> Status:
        """:class:`rfdiff.Status` of the computation (``converged`` as an enumeration)."""
        return Status.SUCCESSFUL if self.converged else Status.NOT_CONVERGED

    def integrate(self, f):
        """∫ f dν for a vectorised function f of λ (a float, or complex if f is)."""
        val = np.sum(self.weights * f(self.nodes))
        if self.atom_locations.size:
            val = val + np.sum(self.atom_masses * f(self.atom_locations))
        return complex(val) if np.iscomplexobj(val) else float(val)

    def part_masses(self) -> np.ndarray:
        """Mass of the measure on each part of ``structure.parts`` (atoms included)."""
        out = np.zeros(len(self.structure.parts))
        np.add.at(out, self.part, self.weights)
        for loc, m in zip(self.atom_locations, self.atom_masses):
            for k, p in enumerate(self.structure.parts):
                if p.kind == "atom" and p.lo == loc:
                    out[k] += m
        return out
