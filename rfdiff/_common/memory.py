"""Memory planning: refuse sizes that would not fit before allocating anything."""

from __future__ import annotations

import os

__all__ = ["available_bytes", "check_fits", "MemoryPlanError"]


class MemoryPlanError(ValueError):
    """Raised when a requested size is estimated not to fit in memory."""


def available_bytes() -> int:
    """Physical memory that a computation may use (80 % of the machine's RAM)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        total = 8 * 2**30
    return int(0.8 * total)


def check_fits(what: str, estimate_bytes: float, limit_bytes: int | None = None, *,
               remedy: str = "reduce d, psi_p or psi_n") -> None:
    """Raise :class:`MemoryPlanError` when ``estimate_bytes`` exceeds the limit.

    Args:
        what: description of the computation, used in the message.
        estimate_bytes: planned peak memory.
        limit_bytes: budget (default :func:`available_bytes`).
        remedy: what to reduce, appended to the message.
    """
    limit = available_bytes() if limit_bytes is None else int(limit_bytes)
    if estimate_bytes > limit:
        raise MemoryPlanError(
            f"{what} needs about {estimate_bytes / 2**30:.2f} GiB, more than the "
            f"{limit / 2**30:.2f} GiB available (memory_limit); {remedy}"
        )
