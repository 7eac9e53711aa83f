"""The paper's claims, checked with numbers where they are meant to hold and where they bend.

Three claims of the paper, each measured on the d → ∞ theory with the report's single
definitions of the two timescales (the spectral ones of :data:`rfdiff.GLOSSARY`):

1. τ_gen hardly depends on n: ``tau_gen_spectral`` is set by the generalisation bulk ρ₂,
   which tends to an n-independent limit for ψ_n ≫ 1;
2. τ_mem ∝ n for ψ_p ≫ ψ_n: ``tau_mem_spectral`` ≈ ψ_n/(Δ_t v_t²), up to the factor
   (1 − √(ψ_n/ψ_p))⁻² of the shifted Marchenko–Pastur edge;
3. memorisation fades for n > p: L_gen(∞) falls below the memorisation level of the
   phase labels near ψ_n = ψ_p.

Each check is a local exponent (slope of log τ against log ψ_n between neighbouring ψ_n)
or a crossing, compared with the claim's value within a stated tolerance: ``pass`` inside,
``bends`` outside, ``not measured`` when the quantity does not exist (no ρ₁ for ψ_n ≤ 1).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._model import Problem
from .._spectrum import generalisation_edges, memorisation_edges
from .._theory import asymptotic_curves
from .._timescales import TimescaleDefinitions, fit_power_law, spectral_timescales

__all__ = ["CLAIMS_PSI_P", "CLAIMS_PSI_N", "FADING_RATIOS", "GEN_TOL", "MEM_TOL",
           "FADING_TOL", "timescale_sweep", "fading_sweep", "check_claims"]

#: ψ_p of the timescale claims: far above every ψ_n of the sweep (ψ_n/ψ_p ≤ 1/16).
CLAIMS_PSI_P = 1024.0
#: ψ_n of the timescale claims (ψ_n > 1, so that the memorisation bulk ρ₁ exists).
CLAIMS_PSI_N = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
#: ψ_n/ψ_p of the fading claim, at the report's ψ_p.
FADING_RATIOS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: |local exponent of τ_gen| below which τ_gen counts as independent of n.
GEN_TOL = 0.2
#: |local exponent of τ_mem − 1| below which τ_mem counts as ∝ n.
MEM_TOL = 0.1
#: factor within which the fading crossing ψ_n* must lie around ψ_p.
FADING_TOL = 2.0


def local_exponents(x, y) -> np.ndarray:
    """Slopes of log y against log x between neighbouring points (len(x) − 1 values)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diff(np.log(np.asarray(y, float))) / np.diff(np.log(np.asarray(x, float)))


def timescale_sweep(problem: Problem, psi_p: float = CLAIMS_PSI_P,
                    psi_n=CLAIMS_PSI_N) -> dict:
    """Spectral τ_gen, τ_mem and their leading orders across ψ_n at a fixed, large ψ_p.

    Args:
        problem: supplies t, the activation and the data spectrum.
        psi_p: the fixed ψ_p.
        psi_n: the ψ_n values (increasing).

    Returns:
        Dict of (K,) arrays: ``psi_n``, ``tau_gen`` and ``tau_mem`` (spectral),
        ``tau_mem_leading`` (ψ_n/(Δ_t v_t²)), ``tau_mem_edge`` (ψ_p/(Δ_t λ) at the
        leading-order left edge of ρ₁), ``tau_gen_limit`` (ψ_p/(Δ_t λ) at the left edge
        of the ψ_n → ∞ limit of ρ₂), and ``psi_p``.
    """
    rows = {k: [] for k in ("tau_gen", "tau_mem", "tau_mem_leading", "tau_mem_edge",
                            "tau_gen_limit")}
    for pn in psi_n:
        q = dataclasses.replace(problem, psi_p=float(psi_p), psi_n=float(pn))
        ts = spectral_timescales(q)
        scale = q.psi_p / q.delta
        rows["tau_gen"].append(ts.tau_gen_spectral)
        rows["tau_mem"].append(ts.tau_mem_spectral)
        rows["tau_mem_leading"].append(q.psi_n / (q.delta * float(q.coefficients.v2)))
        rows["tau_mem_edge"].append(scale / memorisation_edges(q)[0])
        rows["tau_gen_limit"].append(scale / generalisation_edges(q)[0])
    out = {k: np.asarray(v, float) for k, v in rows.items()}
    return {"psi_p": float(psi_p), "psi_n": np.asarray(psi_n, float), **out}


def fading_sweep(problem: Problem, ratios=FADING_RATIOS,
                 definitions: TimescaleDefinitions | None = None) -> dict:
    """L_gen(∞) of the theory across ψ_n = ratio × ψ_p, and the memorisation level.

    At τ = ∞ the phase label's test L_gen ≥ max(mem_fraction × L_gen(∞), mem_threshold)
    reduces to L_gen(∞) ≥ mem_threshold, so the level is the threshold.

    Args:
        problem: supplies ψ_p, t, the activation and the data spectrum.
        ratios: the values of ψ_n/ψ_p (increasing).
        definitions: the thresholds (default :class:`rfdiff.TimescaleDefinitions`).

    Returns:
        Dict: ``psi_p``, ``psi_n`` and ``gen_loss_inf`` ((K,) arrays), ``level`` and
        ``psi_n_star`` (the ψ_n where L_gen(∞) crosses the level, log-interpolated; nan
        when it does not cross inside the sweep).
    """
    defs = (definitions or TimescaleDefinitions()).validated()
    psi_n = problem.psi_p * np.asarray(ratios, float)
    loss = np.array([float(asymptotic_curves(dataclasses.replace(problem, psi_n=float(pn)),
                                             np.array([np.inf])).curves.gen_loss[-1])
                     for pn in psi_n])
    level = float(defs.memorisation_level(0.0))
    star = float("nan")
    below = np.flatnonzero(loss < level)
    if below.size and below[0] > 0:
        i = below[0]
        # L_gen(∞) is close to a power of ψ_n between neighbours: interpolate in log–log
        w = np.log(loss[i - 1] / level) / np.log(loss[i - 1] / loss[i])
        star = float(np.exp(np.log(psi_n[i - 1]) + w * np.log(psi_n[i] / psi_n[i - 1])))
    return {"psi_p": problem.psi_p, "psi_n": psi_n, "gen_loss_inf": loss, "level": level,
            "psi_n_star": star}


def _verdict(ok) -> str:
    if ok is None:
        return "not measured"
    return "pass" if ok else "bends"


def _exponent_claim(claim, sweep, key, i, expected, tol):
    x = sweep["psi_n"]
    alpha = float(local_exponents(x, sweep[key])[i])
    ok = None if not np.isfinite(alpha) else abs(alpha - expected) <= tol
    return {"claim": claim,
            "regime": f"ψp = {sweep['psi_p']:g}, ψn = {x[i]:g} → {x[i + 1]:g}",
            "measured": f"local exponent {alpha:.3f}", "value": alpha,
            "expected": f"{expected:g} ± {tol:g}", "verdict": _verdict(ok)}


def check_claims(sweep: dict, fading: dict) -> list[dict]:
    """The claims with their measured numbers and verdicts.

    Args:
        sweep: from :func:`timescale_sweep`.
        fading: from :func:`fading_sweep`.

    Returns:
        One dict per check: ``claim``, ``regime``, ``measured`` (text), ``value`` (the
        number), ``expected``, ``verdict`` (``pass``, ``bends`` or ``not measured``).
        Each timescale claim is checked at both ends of the sweep: where it is meant to
        hold and where it bends.
    """
    last = len(sweep["psi_n"]) - 2
    # the first pair with both τ_mem finite (ρ₁ exists only for ψ_n > 1)
    finite = np.flatnonzero(np.isfinite(local_exponents(sweep["psi_n"], sweep["tau_mem"])))
    first_mem = int(finite[0]) if finite.size else 0
    rows = [_exponent_claim("τ_gen nearly independent of n", sweep, "tau_gen", last, 0.0,
                            GEN_TOL),
            _exponent_claim("τ_gen nearly independent of n", sweep, "tau_gen", 0, 0.0,
                            GEN_TOL),
            _exponent_claim("τ_mem ∝ n for ψp ≫ ψn", sweep, "tau_mem", first_mem, 1.0,
                            MEM_TOL),
            _exponent_claim("τ_mem ∝ n for ψp ≫ ψn", sweep, "tau_mem", last, 1.0, MEM_TOL)]
    ratio = fading["psi_n_star"] / fading["psi_p"]
    ok = None if not np.isfinite(ratio) else 1 / FADING_TOL <= ratio <= FADING_TOL
    rows.append({"claim": "memorisation fades for n > p",
                 "regime": (f"ψp = {fading['psi_p']:g}, ψn = {fading['psi_n'][0]:g} … "
                            f"{fading['psi_n'][-1]:g}, τ = ∞"),
                 "measured": f"L_gen(∞) crosses {fading['level']:g} at ψn*/ψp = {ratio:.3g}",
                 "value": float(ratio), "expected": f"1 within a factor {FADING_TOL:g}",
                 "verdict": _verdict(ok)})
    return rows


def sweep_fits(sweep: dict) -> dict:
    """Power-law fits over the whole sweep: ``{name: (alpha, stderr)}`` (finite values)."""
    out = {}
    for key in ("tau_gen", "tau_mem", "tau_mem_edge"):
        try:
            out[key] = fit_power_law(sweep["psi_n"], sweep[key])
        except ValueError:  # fewer than two finite values (no ρ₁ in the sweep)
            out[key] = (float("nan"), float("nan"))
    return out
