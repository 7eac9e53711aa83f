"""The model description shared by theory and simulation."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from .activations import Activation, activation as _activation
from .coefficients import Coefficients, coefficients
from .data_spectrum import DataSpectrum, isotropic
from .._common.validation import nonnegative, positive, positive_int

__all__ = ["Problem"]


@dataclasses.dataclass(frozen=True)
class Problem:
    """A random-features score model trained at one diffusion time.

    Args:
        psi_p: ψ_p = p/d, number of features per dimension (> 0).
        psi_n: ψ_n = n/d, number of training points per dimension (> 0).
        t: diffusion time (> 0); Δ_t = 1 − e^{−2t}.
        activation: name or callable (see :func:`rfdiff.activation`).
        spectrum: data covariance spectrum ρ_Σ (default isotropic).
        ridge: weight decay λ ≥ 0 (default 0, the paper's model): training minimises
            L_λ(A) = L(A) + λ Δ_t ‖A‖²_F/(p d) = L + λ Δ_t ‖M‖²_F/d with M = A/√p, i.e. U is
            replaced by U + λI in the training dynamics. Every reported loss (train
            included) is the loss without the penalty term.
        noise_samples: m, the number of fixed noise draws per training point (a positive
            integer, or ``math.inf``, the default: the paper's noise-averaged model).
            With finite m, U = (1/(nm)) Σ_ν Σ_j σ_νj σ_νjᵀ over the draws
            x_ν(t) = e^{−t}x_ν + √Δ_t ξ_νj, j = 1…m. The asymptotic theory covers the
            spectrum of U for every m; learning curves, timescales and the spectral
            structure are derived for m = ∞ only and refuse a finite m.

    Raises:
        ValueError: for ψ ≤ 0, t ≤ 0, λ < 0, non-finite values, an unknown activation or
            a ``noise_samples`` that is neither a positive integer nor inf, naming the
            argument and the value.
    """

    psi_p: float
    psi_n: float
    t: float
    activation: Activation | str = "tanh"
    spectrum: DataSpectrum = dataclasses.field(default_factory=isotropic)
    ridge: float = 0.0
    noise_samples: int | float = math.inf

    def __post_init__(self):
        object.__setattr__(self, "psi_p", positive("psi_p", self.psi_p))
        object.__setattr__(self, "psi_n", positive("psi_n", self.psi_n))
        object.__setattr__(self, "t", positive("t", self.t))
        object.__setattr__(self, "ridge", nonnegative("ridge", self.ridge))
        object.__setattr__(self, "noise_samples", check_noise_samples(self.noise_samples))
        object.__setattr__(self, "activation", _activation(self.activation))
        if not isinstance(self.spectrum, DataSpectrum):
            raise ValueError(f"spectrum must be a DataSpectrum, got {self.spectrum!r}")

    @property
    def delta(self) -> float:
        """Δ_t = 1 − e^{−2t}."""
        return -math.expm1(-2.0 * self.t)

    @functools.cached_property
    def coefficients(self) -> Coefficients:
        """Gaussian-equivalence constants at (activation, t, κ)."""
        return coefficients(self.activation, self.t, self.spectrum)

    def sizes(self, d: int) -> tuple[int, int]:
        """(p, n) at dimension d: p = round(ψ_p d), n = round(ψ_n d), each at least 1."""
        return max(1, round(self.psi_p * d)), max(1, round(self.psi_n * d))

    def params(self) -> dict:
        """Parameters as plain JSON-ready values (``noise_samples`` only when finite)."""
        out = {
            "psi_p": self.psi_p,
            "psi_n": self.psi_n,
            "t": self.t,
            "activation": self.activation.name,
            "sigma": self.spectrum.label(),
            "ridge": self.ridge,
        }
        if not math.isinf(self.noise_samples):
            out["noise_samples"] = self.noise_samples
        return out


def check_noise_samples(value):
    """m as an int ≥ 1, or math.inf (the noise-averaged model)."""
    if isinstance(value, int | float | np.integer | np.floating) \
            and not isinstance(value, bool) and value == math.inf:
        return math.inf
    try:
        return positive_int("noise_samples", value)
    except (ValueError, OverflowError):
        raise ValueError("noise_samples must be a positive integer or inf, "
                         f"got {value!r}") from None
