"""Local exponents of the spectral timescales, d log τ / d log x, by automatic differentiation.

The spectral τ_gen = ψ_p/(Δ_t λ_lo(ρ₂)) and τ_mem = ψ_p/(Δ_t λ_lo(ρ₁)) are functions of
the edges of the spectrum, which are folds of the one-point equations; their derivatives
follow from the implicit-function theorem (:func:`rfdiff.core.edges`). A local exponent is
the slope of log τ against log x at one point, where a fitted exponent is an average slope
over a range (:func:`rfdiff.scaling_report` gives both).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._model import Problem
from .._spectrum import edges, spectral_structure
from .._theory import functional, require_noise_averaged

__all__ = ["LOCAL_KEYS", "local_exponents"]

#: The timescales whose local exponents are reported, in this order.
LOCAL_KEYS = ("tau_gen_spectral", "tau_mem_spectral", "tau_mem_onset")

_WRT = ("psi_n", "psi_p", "t")


def core_params(problem: Problem) -> functional.Params:
    """The functional-core parameters of a :class:`Problem` (needs 64-bit types enabled)."""
    return functional.params(problem.psi_p, problem.psi_n, problem.t, problem.activation,
                             np.asarray(problem.spectrum.atoms),
                             np.asarray(problem.spectrum.weights))


def local_exponents(problem: Problem, wrt: str = "psi_n", structure=None) -> dict:
    """d log τ / d log x of the spectral timescales at one point, x ∈ {ψ_n, ψ_p, t}.

    Args:
        problem: the model.
        wrt: ``"psi_n"`` (default), ``"psi_p"`` or ``"t"``.
        structure: its :func:`rfdiff.spectral_structure`, when already computed.

    Returns:
        ``{key: exponent}`` for the keys of :data:`LOCAL_KEYS` (floats; ``nan`` where the
        part is absent).

    Raises:
        ValueError: for a bad problem or ``wrt``.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a rfdiff.Problem, got {problem!r}")
    require_noise_averaged(problem, "local_exponents")
    if wrt not in _WRT:
        raise ValueError(f"wrt must be one of {_WRT}, got {wrt!r}")
    if wrt == "psi_n" and np.isinf(problem.psi_n):
        return {k: float("nan") for k in LOCAL_KEYS}
    structure = spectral_structure(problem) if structure is None else structure
    with jax.enable_x64(True):
        p = core_params(problem)

        def logs(log_x):
            e = edges(p.replace(**{wrt: jnp.exp(log_x)}), structure)
            return jnp.log(jnp.stack([e.tau_gen, e.tau_mem, e.tau_mem_onset]))

        slopes = np.asarray(jax.jacfwd(logs)(jnp.log(getattr(p, wrt))))
    return {k: float(v) for k, v in zip(LOCAL_KEYS, slopes)}
