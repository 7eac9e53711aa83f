"""The data covariance Σ, described by its spectral measure ρ_Σ = Σ_k w_k δ(λ − λ_k)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._common.validation import finite, positive, positive_int

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

    @classmethod
    def from_eigenvalues(cls, ev, atoms: int | None = None) -> DataSpectrum:
        """The spectrum of given covariance eigenvalues, compressed to at most ``atoms`` atoms.

        Compression: the eigenvalues are sorted and cut into ``atoms`` groups of
        consecutive values with counts as equal as possible (quantile groups); each group
        becomes one atom at the group's mean, weighted by its share of the eigenvalues.
        Means weighted by counts keep κ = Tr Σ/d exact (up to round-off); the spread
        inside the groups is what is lost, measured by :meth:`compression_error`. Zero
        eigenvalues (directions without variance, such as constant pixels) are allowed:
        a group whose mean would be 0 is merged into the next group up, since atoms must
        be > 0.

        Args:
            ev: 1-D array of eigenvalues (finite, ≥ 0; negative values within 1e-10 of
                the largest are round-off of a semi-definite matrix and read as 0).
            atoms: the number of groups K (a positive integer); None for one group per
                eigenvalue (no compression beyond merging zeros).

        Returns:
            :class:`DataSpectrum` with at most K atoms.

        Raises:
            ValueError: if ``ev`` is not a non-empty 1-D array of finite real numbers, has
                a clearly negative value or is all zero, or ``atoms`` is not a positive
                integer, naming the argument and the value.
        """
        return _compress(_eigenvalue_array(ev), atoms)

    @classmethod
    def from_covariance(cls, C, atoms: int | None = None) -> DataSpectrum:
        """The spectrum of a covariance matrix, compressed as in :meth:`from_eigenvalues`.

        Args:
            C: (d, d) symmetric positive semi-definite matrix (symmetric to 1e-10
                relative to its largest entry).
            atoms: the number of atoms K, or None (see :meth:`from_eigenvalues`).

        Returns:
            :class:`DataSpectrum`.

        Raises:
            ValueError: if ``C`` is not a finite square real matrix, is not symmetric, or
                has eigenvalues that :meth:`from_eigenvalues` rejects.
        """
        _check_atoms(atoms)
        C = _real_array("C", C)
        if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] == 0:
            raise ValueError(f"C must be a square (d, d) matrix, got shape {C.shape}")
        scale = float(np.max(np.abs(C)))
        asym = float(np.max(np.abs(C - C.T)))
        if asym > 1e-10 * scale:
            raise ValueError(f"C must be symmetric, got max |C - C.T| = {asym:.3g}")
        return _compress(_eigenvalue_array(np.linalg.eigvalsh(0.5 * (C + C.T)),
                                           "C's eigenvalues"), atoms)

    @classmethod
    def from_data(cls, X, atoms: int | None = None, *, center: bool = True) -> DataSpectrum:
        """The spectrum of the sample covariance of data points, compressed.

        Σ̂ = (1/n) Σ_ν (x_ν − x̄)(x_ν − x̄)ᵀ with the column means x̄ removed (``center``,
        the default: the theory's data have zero mean, and their mean is not part of
        Σ), or the second moment (1/n) Σ_ν x_ν x_νᵀ with ``center=False`` (what a
        finite-size instance built from the same, uncentred points sees). The divisor
        is n.

        Args:
            X: (n, d) data points, one per row, n ≥ 2, finite, not all equal.
            atoms: the number of atoms K, or None (see :meth:`from_eigenvalues`).
            center: whether to subtract the column means first.

        Returns:
            :class:`DataSpectrum`.

        Raises:
            ValueError: if ``X`` is not a finite real (n, d) array with n ≥ 2, or is
                constant, naming the argument.
        """
        _check_atoms(atoms)
        X = _real_array("X", X)
        if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] == 0:
            raise ValueError(f"X must be a 2-D array (n, d) with n >= 2, got shape {X.shape}")
        if np.all(X == X[:1]):
            raise ValueError(f"X is constant: all {X.shape[0]} rows are equal")
        if center:
            X = X - X.mean(axis=0)
        # singular values give the eigenvalues without forming d×d when n < d
        sv = np.linalg.svd(X, compute_uv=False)
        ev = np.zeros(X.shape[1])
        ev[: sv.size] = sv**2 / X.shape[0]
        return cls.from_eigenvalues(ev, atoms)

    def compression_error(self, ev, t: float | None = None) -> dict:
        """What compressing the eigenvalues ``ev`` to this spectrum changes.

        Every quantity of the asymptotic theory is a functional of ρ_Σ; the
        Gaussian-equivalence coefficients depend on κ only, the resolvent on the whole
        measure. Reported, each relative to the value of the full spectrum:

        - ``kappa``: error of κ = E λ (0 up to round-off for :meth:`from_eigenvalues`);
        - ``second_moment``: error of E λ² (the within-group spread that is lost);
        - ``wasserstein1``: the W1 distance between the two measures, divided by κ;
        - ``score_trace`` (with ``t``): error of E[1/(e^{−2t}λ + Δ_t)] = Tr C⁻¹/d, the
          score term of the test loss.

        Args:
            ev: the full eigenvalues (as for :meth:`from_eigenvalues`).
            t: optional diffusion time (> 0) for ``score_trace``.

        Returns:
            A dict of floats.

        Raises:
            ValueError: for eigenvalues that :meth:`from_eigenvalues` rejects or a bad t.
        """
        lam = np.sort(_eigenvalue_array(ev))
        approx = np.sort(self.eigenvalues(lam.size))
        kappa = float(lam.mean())
        out = {
            "kappa": abs(float(approx.mean()) - kappa) / kappa,
            "second_moment": abs(float(np.mean(approx**2) - np.mean(lam**2)))
            / float(np.mean(lam**2)),
            "wasserstein1": float(_w1(lam, self)) / kappa,
        }
        if t is not None:
            t = positive("t", t)
            delta = -math.expm1(-2 * t)

            def trace(x, w):
                return float(np.sum(w / (math.exp(-2 * t) * x + delta)))

            full = trace(lam, np.full(lam.size, 1.0 / lam.size))
            out["score_trace"] = abs(trace(np.asarray(self.atoms),
                                           np.asarray(self.weights)) - full) / full
        return out

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


def _real_array(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {int(np.sum(~np.isfinite(arr)))} "
                         "NaN or infinite entries")
    return arr


def _eigenvalue_array(ev, name: str = "ev") -> np.ndarray:
    lam = _real_array(name, ev)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {lam.shape}")
    top = float(np.max(lam))
    if top <= 0:
        raise ValueError(f"{name} must have a positive value (all are <= 0, max {top!r})")
    if float(np.min(lam)) < -1e-10 * top:
        raise ValueError(f"{name} must be >= 0 (a covariance is positive semi-definite), got "
                         f"min {float(np.min(lam))!r}")
    return np.maximum(lam, 0.0)


def _w1(lam: np.ndarray, spectrum: DataSpectrum) -> float:
    """W1 between the empirical measure of ``lam`` and the atoms of ``spectrum``.

    Both are distributions on the line: W1 = ∫ |F₁ − F₂| dλ, computed exactly on the
    merged breakpoints of the two step functions.
    """
    atoms = np.asarray(spectrum.atoms)
    order = np.argsort(atoms)
    a, w = atoms[order], np.asarray(spectrum.weights)[order]
    grid = np.union1d(lam, a)
    F1 = np.searchsorted(np.sort(lam), grid, side="right") / lam.size
    F2 = np.concatenate([[0.0], np.cumsum(w)])[np.searchsorted(a, grid, side="right")]
    return float(np.sum(np.abs(F1 - F2)[:-1] * np.diff(grid)))


def _check_atoms(atoms) -> None:
    if atoms is not None:
        positive_int("atoms", atoms)


def _compress(lam: np.ndarray, atoms) -> DataSpectrum:
    """Quantile groups of the eigenvalues ``lam`` (see :meth:`DataSpectrum.from_eigenvalues`)."""
    k = lam.size if atoms is None else positive_int("atoms", atoms)
    groups = [g for g in np.array_split(np.sort(lam), min(k, lam.size)) if g.size]
    means, counts = [], []
    carry = np.empty(0)
    for g in groups:
        g = np.concatenate([carry, g])
        if g.mean() <= 0:  # only zeros so far: merge them into the next group up
            carry = g
            continue
        means.append(float(g.mean()))
        counts.append(g.size)
        carry = np.empty(0)
    weights = np.asarray(counts, dtype=float) / lam.size
    return DataSpectrum(tuple(means), tuple(weights / weights.sum()))
