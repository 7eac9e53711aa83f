"""The definitions of τ_gen and τ_mem: one record of thresholds, one glossary of names.

The same words name several timescales (the paper's spectral τ's, the argmin of the score
error, level crossings of the learning curves). Each result of rfdiff names its times after
the glossary below, so that a name says which definition is meant; every function that
reads a timescale off curves takes its thresholds from one :class:`TimescaleDefinitions`.

Glossary (``{...}``: a threshold of the record):

- ``tau_gen_spectral``: ψ_p/(Δ_t λ_lo(ρ₂)), the slowest generalisation mode (left edge of
  the generalisation bulk);
- ``tau_gen_argmin``: the training time of the minimum of E_score(τ);
- ``tau_gen_reached``: the first time at which E_score(τ) ≤ {gen_factor} × its minimum;
- ``tau_mem_spectral``: ψ_p/(Δ_t λ_lo(ρ₁)), the paper's τ_mem (left edge of the
  memorisation bulk: memorisation complete);
- ``tau_mem_onset``: ψ_p/(Δ_t λ_hi(ρ₁)), the fastest memorisation mode (right edge);
- ``tau_mem_fraction``: the first time after the minimum of E_score at which L_gen(τ)
  rises through {mem_fraction} × L_gen(∞);
- ``tau_mem_level``: the first time after the minimum of E_score at which L_gen(τ) ≥
  max({mem_fraction} × L_gen(∞), {mem_threshold}) (the phase diagram's τ_mem);
- ``tau_mem_threshold``: the first time after the minimum of E_score at which L_gen(τ)
  rises through {gen_threshold};
- ``tau_mem_score``: the first time after the minimum of E_score at which E_score(τ)
  rises through {mem_factor} × its minimum;
- ``tau_mem_leading``: ψ_n/(Δ_t v_t²), the leading order of τ_mem for ψ_p ≫ ψ_n;
- ``psi_n_star``: at a fixed τ, the ψ_n below which L_gen(τ) ≥ the level of
  ``tau_mem_level`` (memorising).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._common.validation import finite, positive

__all__ = ["TimescaleDefinitions", "PhaseThresholds", "GLOSSARY"]

#: One sentence per timescale name; ``{...}`` are the thresholds of the record.
GLOSSARY = {
    "tau_gen_spectral": "psi_p/(Delta_t lambda_lo(rho_2)), the slowest generalisation mode "
                        "(left edge of the generalisation bulk)",
    "tau_gen_argmin": "training time of the minimum of E_score",
    "tau_gen_reached": "first tau with E_score <= {gen_factor:g} x its minimum",
    "tau_mem_spectral": "psi_p/(Delta_t lambda_lo(rho_1)), the paper's tau_mem (left edge "
                        "of the memorisation bulk: memorisation complete)",
    "tau_mem_onset": "psi_p/(Delta_t lambda_hi(rho_1)), the fastest memorisation mode "
                     "(right edge of the memorisation bulk)",
    "tau_mem_fraction": "first tau after the minimum of E_score with L_gen rising through "
                        "{mem_fraction:g} x L_gen(inf)",
    "tau_mem_level": "first tau after the minimum of E_score with L_gen >= "
                     "max({mem_fraction:g} x L_gen(inf), {mem_threshold:g}) (the phase "
                     "diagram's tau_mem)",
    "tau_mem_threshold": "first tau after the minimum of E_score with L_gen rising through "
                         "{gen_threshold:g}",
    "tau_mem_score": "first tau after the minimum of E_score with E_score rising through "
                     "{mem_factor:g} x its minimum",
    "tau_mem_leading": "psi_n/(Delta_t v_t^2), the leading order of tau_mem for "
                       "psi_p >> psi_n",
    "psi_n_star": "at fixed tau, the psi_n below which L_gen(tau) >= max({mem_fraction:g} x "
                  "L_gen(inf), {mem_threshold:g}) (memorising)",
}


def _above_one(name, value):
    value = finite(name, value)
    if not value > 1:
        raise ValueError(f"{name} must be > 1, got {value!r}")
    return value


def _fraction(name, value):
    value = finite(name, value)
    if not 0 < value < 1:
        bound = "< 1" if value >= 1 else "> 0"
        raise ValueError(f"{name} must be in (0, 1), got {value!r} ({name} must be {bound})")
    return value


_CHECKS = {"gen_factor": _above_one, "mem_fraction": _fraction, "mem_threshold": positive,
           "gen_threshold": positive, "mem_factor": _above_one}


class TimescaleDefinitions(NamedTuple):
    """The thresholds of every timescale read off learning curves (see the glossary).

    The first three fields, in this order, are those of the phase labels (the record is
    also :class:`PhaseThresholds`).

    Attributes:
        gen_factor: E_score within this factor of its minimum is generalised
            (``tau_gen_reached``; > 1).
        mem_fraction: L_gen at this fraction of L_gen(∞) is memorised
            (``tau_mem_fraction``, ``tau_mem_level``; in (0, 1)).
        mem_threshold: ... provided L_gen is at least this large (``tau_mem_level``,
            the phase labels; > 0).
        gen_threshold: absolute L_gen level of ``tau_mem_threshold`` (> 0).
        mem_factor: E_score at this multiple of its minimum after the minimum
            (``tau_mem_score``; > 1).
    """

    gen_factor: float = 2.0
    mem_fraction: float = 0.5
    mem_threshold: float = 0.25
    gen_threshold: float = 0.1
    mem_factor: float = 2.0

    def validated(self) -> TimescaleDefinitions:
        """The record with every threshold checked and converted to float.

        Returns:
            A record of the same class.

        Raises:
            ValueError: naming the first threshold out of its range and its value.
        """
        return self._make(_CHECKS[k](k, v) for k, v in zip(self._fields, self))

    def generalisation_level(self, min_score_error):
        """The E_score level of ``tau_gen_reached``: gen_factor × min E_score."""
        return self.gen_factor * min_score_error

    def memorisation_level(self, gen_loss_inf):
        """The L_gen level of ``tau_mem_level`` and of the phase labels (broadcasts)."""
        return np.maximum(self.mem_fraction * np.asarray(gen_loss_inf), self.mem_threshold)

    def glossary(self) -> dict:
        """``{name: sentence}`` for every timescale name, with these thresholds."""
        values = self._asdict()
        return {k: v.format(**values) for k, v in GLOSSARY.items()}

    def describe(self, scope: str = "all") -> str:
        """The definitions as text.

        Args:
            scope: ``"all"`` (the glossary, one name per line), ``"curve"`` (the
                definitions of :func:`rfdiff.curve_timescales`, one line) or ``"phase"``
                (the phase labels, one line).

        Returns:
            Text.

        Raises:
            ValueError: for an unknown scope.
        """
        if scope == "all":
            return "\n".join(f"{k}: {v}" for k, v in self.glossary().items())
        if scope == "curve":
            return (
                "tau_gen: argmin of E_score (log-parabolic refinement); "
                f"tau_gen_reached: first tau with E_score <= {self.gen_factor:g} x min; "
                f"tau_mem: first tau after tau_gen with L_gen >= {self.mem_fraction:g} x "
                "L_gen(inf); "
                f"tau_mem_threshold: first tau after tau_gen with L_gen >= "
                f"{self.gen_threshold:g}; "
                f"tau_mem_score: first tau after tau_gen with E_score >= "
                f"{self.mem_factor:g} x min; "
                f"tau_mem_level: first tau after tau_gen with L_gen >= "
                f"max({self.mem_fraction:g} x L_gen(inf), {self.mem_threshold:g}); "
                "crossings interpolated in log tau, inf if not reached on the grid")
        if scope == "phase":
            return (f"memorising: L_gen(tau) >= max({self.mem_fraction:g} x L_gen(inf), "
                    f"{self.mem_threshold:g}); not_generalising: not memorising and tau < "
                    f"tau_gen, the first time E_score <= {self.gen_factor:g} x its minimum "
                    "over tau; generalising: otherwise")
        raise ValueError(f"scope must be 'all', 'curve' or 'phase', got {scope!r}")

    @classmethod
    def of(cls, thresholds=None, **overrides) -> TimescaleDefinitions:
        """A validated record from a record, a tuple in field order or None, with overrides.

        Args:
            thresholds: a :class:`TimescaleDefinitions` (or :class:`PhaseThresholds`), a
                tuple of thresholds in field order, or None (the defaults).
            **overrides: thresholds to replace (None values are ignored).

        Returns:
            A validated record of class ``cls``.

        Raises:
            ValueError: for an unknown threshold name or a value out of range.
        """
        base = cls() if thresholds is None else cls(*thresholds)
        unknown = set(overrides) - set(cls._fields)
        if unknown:
            raise ValueError(f"unknown thresholds {sorted(unknown)!r}; the thresholds are "
                             f"{cls._fields!r}")
        given = {k: v for k, v in overrides.items() if v is not None}
        return base._replace(**given).validated()


class PhaseThresholds(TimescaleDefinitions):
    """The :class:`TimescaleDefinitions` of the phase diagram (the same five thresholds,
    positional order gen_factor, mem_fraction, mem_threshold); :meth:`describe` states
    the phase labels.
    """

    __slots__ = ()

    def describe(self, scope: str = "phase") -> str:
        """The definitions as text (default: the phase labels; see
        :meth:`TimescaleDefinitions.describe`)."""
        return super().describe(scope)
