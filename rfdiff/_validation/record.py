"""The record of a validation by extrapolation, and its JSON form."""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Validation", "CURVE_NAMES"]

#: the learning-curve quantities validated, also the JSON keys
CURVE_NAMES = ("train_loss", "test_loss", "score_error")


def _floats(x):
    return [float(v) for v in np.asarray(x, dtype=float)]


@dataclasses.dataclass(frozen=True)
class Validation:
    """Finite sizes over a ladder of d, their d → ∞ extrapolation and the theory.

    Attributes:
        problem: the :class:`rfdiff.Problem`.
        tau: the τ grid (τ = ∞ last).
        d: the sizes, increasing.
        seeds: the seeds drawn at every size.
        method: how the finite-size matrices were built.
        theory: ``{name: (T,)}`` asymptotic curves for ``train_loss``, ``test_loss``,
            ``score_error``.
        finite: ``{name: (D, S, T)}`` finite-size curves, per size and seed.
        fits: ``{name: Extrapolation}`` of the seed means (one column per τ).
        w1: ``(D, S)`` Wasserstein-1 distances of the spectrum of U to the theory.
        w1_fit: ``Extrapolation`` of the mean W₁ (one column).
        edges: one dict per bulk edge: ``role``, ``side`` (``lo``/``hi``), ``theory``,
            ``finite`` (D seed means), ``extrapolated``, ``uncertainty`` (fit in
            d^(-2/3)); empty when the eigenvalues could not be assigned to the parts.
        wall_s: wall time of the whole validation.
        timescales: one dict per timescale (``tau_gen_curve``, ``tau_mem_curve``,
            ``tau_gen_spectral``, ``tau_mem_spectral``): ``name``, ``definition``,
            ``theory``, ``finite`` (D seed means), ``extrapolated``, ``uncertainty``
            (``nan`` when some run has no finite value).
    """

    problem: object
    tau: np.ndarray
    d: tuple
    seeds: tuple
    method: str
    theory: dict
    finite: dict
    fits: dict
    w1: np.ndarray
    w1_fit: object
    edges: list
    wall_s: float
    timescales: list = dataclasses.field(default_factory=list)

    def finite_mean(self, name: str) -> np.ndarray:
        """``(D, T)`` seed means of ``name``."""
        return self.finite[name].mean(axis=1)

    def relative_deviation(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(extrapolated − theory) / abs(theory) and its uncertainty, per τ."""
        th = np.abs(self.theory[name])
        fit = self.fits[name]
        return (fit.value - self.theory[name]) / th, fit.uncertainty / th

    def max_deviation(self, name: str) -> dict:
        """The τ of the largest relative deviation, the deviation and its uncertainty."""
        dev, unc = self.relative_deviation(name)
        k = int(np.nanargmax(np.abs(dev)))
        return {"tau": float(self.tau[k]), "relative_deviation": float(dev[k]),
                "uncertainty": float(unc[k])}

    def as_dict(self) -> dict:
        """JSON-ready dict (``inf``/``nan`` as floats; the CLI spells them as strings).

        Keys: ``tau``, ``d``, ``seeds`` (the number of seeds per size), ``seed_values``,
        ``method``; for each of ``train_loss``, ``test_loss``, ``score_error``:
        ``theory``, ``extrapolated``, ``uncertainty``, ``relative_deviation``, ``order``
        (1: a + b/d, 2: + c/d²) over τ, ``finite`` (over d, lists over τ of seed means),
        ``finite_sem`` (their standard errors, or None with one seed) and
        ``max_relative_deviation``; ``spectrum`` with ``w1`` (over d, seed means),
        ``w1_seeds``, ``extrapolated``, ``uncertainty``, ``theory`` (0) and ``edges``;
        ``timescales`` (the list of :attr:`timescales`); ``wall_s``.
        """
        out = {"tau": _floats(self.tau), "d": list(self.d),
               "seeds": len(self.seeds), "seed_values": list(self.seeds),
               "method": self.method}
        for name in self.theory:
            fit = self.fits[name]
            dev, _ = self.relative_deviation(name)
            f = self.finite[name]
            sem = (np.std(f, axis=1, ddof=1) / np.sqrt(f.shape[1])).tolist() \
                if f.shape[1] > 1 else None
            out[name] = {"theory": _floats(self.theory[name]),
                         "extrapolated": _floats(fit.value),
                         "uncertainty": _floats(fit.uncertainty),
                         "relative_deviation": _floats(dev),
                         "order": [int(v) for v in fit.order],
                         "finite": self.finite_mean(name).tolist(), "finite_sem": sem,
                         "max_relative_deviation": self.max_deviation(name)}
        out["spectrum"] = {"w1": self.w1.mean(axis=1).tolist(), "w1_seeds": self.w1.tolist(),
                           "extrapolated": float(self.w1_fit.value[0]),
                           "uncertainty": float(self.w1_fit.uncertainty[0]),
                           "order": int(self.w1_fit.order[0]), "theory": 0.0,
                           "edges": [{**e, "finite": np.asarray(e["finite"]).tolist()}
                                     for e in self.edges]}
        out["timescales"] = [{**e, "finite": np.asarray(e["finite"]).tolist()}
                             for e in self.timescales]
        out["wall_s"] = float(self.wall_s)
        return out
