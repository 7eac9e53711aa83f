"""One status convention for every iterative result.

Every solver of rfdiff (Newton continuations of the one-point equations, fold solves of the
spectral edges, root solves of the timescales) returns its values together with a per-point
``converged`` mask, and its result record carries a :class:`Status`. By default a result that
did not fully converge is returned as computed, with a ``RuntimeWarning`` naming where it
failed and what to try; with ``throw=True`` the same condition raises
:class:`NotConvergedError` instead, before any flagged value reaches the caller.
"""

from __future__ import annotations

import enum
import warnings

import numpy as np

__all__ = ["Status", "NotConvergedError", "status_of", "check_converged"]


class Status(enum.IntEnum):
    """Outcome of an iterative computation.

    Attributes:
        SUCCESSFUL: every point reached its tolerance.
        NOT_CONVERGED: at least one point did not reach its tolerance (its values are
            returned as computed and flagged in ``converged``).
        NONFINITE: at least one value is not finite.
    """

    SUCCESSFUL = 0
    NOT_CONVERGED = 1
    NONFINITE = 2


class NotConvergedError(RuntimeError):
    """An iterative computation did not converge and ``throw=True`` was asked for."""


def status_of(converged, values=()) -> Status:
    """The :class:`Status` of a result from its ``converged`` mask (and optional values).

    Args:
        converged: boolean array (or scalar), True where a point converged.
        values: arrays whose entries must be finite (NaN/inf gives ``NONFINITE``).

    Returns:
        :class:`Status`.

    Raises:
        Nothing.
    """
    for v in values:
        if not np.all(np.isfinite(np.asarray(v))):
            return Status.NONFINITE
    return Status.SUCCESSFUL if bool(np.all(converged)) else Status.NOT_CONVERGED


def check_converged(converged, *, what: str, where=None, throw: bool = False,
                    remedy: str = "", values=(), stacklevel: int = 3) -> Status:
    """Warn (default) or raise when a result did not converge.

    Args:
        converged: boolean mask of converged points.
        what: name of the computation (e.g. ``"asymptotic_curves"``).
        where: optional array of the coordinates of the points (e.g. the τ grid), used to
            name the failed points in the message.
        throw: raise :class:`NotConvergedError` instead of warning.
        remedy: what the caller can try (appended to the message).
        values: arrays that must be finite.
        stacklevel: passed to :func:`warnings.warn`.

    Returns:
        The :class:`Status`.

    Raises:
        NotConvergedError: with ``throw=True`` when the status is not ``SUCCESSFUL``.
    """
    status = status_of(converged, values)
    if status is Status.SUCCESSFUL:
        return status
    mask = ~np.asarray(converged, dtype=bool)
    msg = f"{what}: {status.name.lower().replace('_', ' ')}"
    if where is not None and mask.shape == np.shape(where) and mask.any():
        pts = np.asarray(where)[mask].ravel()
        shown = ", ".join(f"{x:.6g}" if np.isrealobj(x) else str(x) for x in pts[:5])
        msg += f" at {mask.sum()} point(s) ({shown}{', ...' if pts.size > 5 else ''})"
    if remedy:
        msg += f"; {remedy}"
    if throw:
        raise NotConvergedError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=stacklevel)
    return status
