"""The data covariance Σ, described by its spectral measure ρ_Σ = Σ_k w_k δ(λ − λ_k)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._common.validation import finite, positive

__all__ = ["DataSpectrum", "isotropic", "two_atom", "parse_spectrum"]


@dataclasses.dataclass(frozen=True)
class DataSpectrum:
    """Spectral measure of the data covariance: atoms λ_k > 0 with weights w_k summing to 1.

    Args:
        atoms: eigenvalues λ_k of Σ (finite, > 0).
        weights: fractions w_k ≥ 0 of the d eigenvalues at each atom; must sum to 1
            (to 1e-12).

    Raises:
        ValueError: naming the offending argument and value.
    """

    atoms: tuple[float, ...]
    weights: tuple[float, ...]

    def __post_init__(self):
        atoms = tuple(float(a) for a in np.atleast_1d(np.asarray(self.atoms, dtype=float)))
        weights = tuple(float(w) for w in np.atleast_1d(np.asarray(self.weights, dtype=float)))
        if len(atoms) == 0:
            raise ValueError("atoms must contain at least one eigenvalue, got ()")
        if len(atoms) != len(weights):
            raise ValueError(
                f"atoms and weights must have the same length, got {len(atoms)} and {len(weights)}"
            )
        for a in atoms:
            finite("atoms", a)
            if a <= 0:
                raise ValueError(f"atoms must be > 0, got {a!r}")
        for w in weights:
            finite("weights", w)
            if w < 0:
                raise ValueError(f"weights must be >= 0, got {w!r}")
        if abs(sum(weights) - 1.0) > 1e-12:
            raise ValueError(f"weights must sum to 1, got sum {sum(weights)!r} for {weights!r}")
        object.__setattr__(self, "atoms", atoms)
        object.__setattr__(self, "weights", weights)

    @property
    def kappa(self) -> float:
        """κ = Tr Σ / d = Σ_k w_k λ_k."""
        return float(sum(w * a for w, a in zip(self.weights, self.atoms)))

    @property
    def is_isotropic(self) -> bool:
        """True when Σ is a multiple of the identity (one atom carries all the weight)."""
        return sum(1 for w in self.weights if w > 0) == 1

    def eigenvalues(self, d: int) -> np.ndarray:
        """The d eigenvalues of a finite-size Σ whose empirical measure is closest to ρ_Σ.

        Counts d·w_k are rounded by the largest-remainder rule so that they sum to d.
        """
        raw = np.asarray(self.weights) * d
        counts = np.floor(raw).astype(int)
        short = d - counts.sum()
        order = np.argsort(-(raw - counts), kind="stable")
        counts[order[:short]] += 1
        return np.repeat(np.asarray(self.atoms), counts)

    @classmethod
    def isotropic(cls, scale: float = 1.0) -> DataSpectrum:
        """Σ = scale · I (see :func:`rfdiff.tools.isotropic`).

        Args:
            scale: the single eigenvalue of Σ (finite, > 0).

        Returns:
            :class:`DataSpectrum` with one atom.

        Raises:
            ValueError: if ``scale`` is not finite and > 0.
        """
        return isotropic(scale)

    @classmethod
    def two_atom(cls) -> DataSpectrum:
        """The reference paper's ½δ(λ − 0.5) + ½δ(λ − 1.5) (see :func:`rfdiff.tools.two_atom`).

        Returns:
            :class:`DataSpectrum`.

        Raises:
            Nothing.
        """
        return two_atom()

    @classmethod
    def parse(cls, text: str) -> DataSpectrum:
        """Parse the ``--sigma`` syntax ``ATOM:WEIGHT[,...]`` (see
        :func:`rfdiff.tools.parse_spectrum`).

        Args:
            text: the text.

        Returns:
            :class:`DataSpectrum`.

        Raises:
            ValueError: for malformed text or invalid atoms/weights.
        """
        return parse_spectrum(text)

    def label(self) -> str:
        """Compact text form ``ATOM:WEIGHT,...`` (the CLI's ``--sigma`` syntax)."""
        return ",".join(f"{a:g}:{w:g}" for a, w in zip(self.atoms, self.weights))


def isotropic(scale: float = 1.0) -> DataSpectrum:
    """Σ = scale · I (one atom).

    Args:
        scale: the single eigenvalue of Σ (finite, > 0).

    Returns:
        :class:`DataSpectrum` with atoms ``(scale,)`` and weights ``(1.0,)``.

    Raises:
        ValueError: if ``scale`` is not finite and > 0, naming the argument and the value.
    """
    scale = positive("scale", scale)
    return DataSpectrum((scale,), (1.0,))


def two_atom() -> DataSpectrum:
    """The two-atom spectrum ρ_Σ = ½δ(λ − 0.5) + ½δ(λ − 1.5) used in the reference paper.

    Returns:
        :class:`DataSpectrum` with atoms ``(0.5, 1.5)`` and weights ``(0.5, 0.5)``.

    Raises:
        Nothing: the spectrum is fixed and valid.
    """
    return DataSpectrum((0.5, 1.5), (0.5, 0.5))


def parse_spectrum(text: str) -> DataSpectrum:
    """Parse ``ATOM:WEIGHT[,ATOM:WEIGHT...]`` (or the names ``isotropic``, ``two-atom``).

    This is the syntax of the CLI's ``--sigma`` option and of :meth:`DataSpectrum.label`.

    Args:
        text: ``"isotropic"`` (or ``"iso"``), ``"two-atom"`` (or ``"two_atom"``,
            ``"paper"``), or comma-separated ``ATOM:WEIGHT`` pairs such as
            ``"0.5:0.5,1.5:0.5"``; surrounding whitespace is ignored. Atoms must be finite
            and > 0, weights finite and ≥ 0 with sum 1 (to 1e-12).

    Returns:
        The :class:`DataSpectrum`.

    Raises:
        ValueError: if ``text`` is not a string, for malformed text or non-finite
            weights (naming ``sigma`` and the text), or for atoms or weights that
            :class:`DataSpectrum` rejects (naming ``atoms`` or ``weights`` and the value).
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {text!r}")
    text = text.strip()
    if text in ("isotropic", "iso"):
        return isotropic()
    if text in ("two-atom", "two_atom", "paper"):
        return two_atom()
    atoms, weights = [], []
    for item in text.split(","):
        parts = item.split(":")
        if len(parts) != 2:
            raise ValueError(f"sigma must look like ATOM:WEIGHT[,ATOM:WEIGHT...], got {text!r}")
        try:
            atoms.append(float(parts[0]))
            weights.append(float(parts[1]))
        except ValueError:
            raise ValueError(
                f"sigma must look like ATOM:WEIGHT[,ATOM:WEIGHT...], got {text!r}"
            ) from None
    if any(not math.isfinite(w) for w in weights):
        raise ValueError(f"sigma weights must be finite, got {text!r}")
    return DataSpectrum(tuple(atoms), tuple(weights))
