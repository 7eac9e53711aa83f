"""Optional wall-time record of the stages of the finite-size route.

Outside :func:`recording` a stage is a plain call. Inside it, each stage waits for its
results (JAX dispatches asynchronously) and adds its wall time to the record, so that a
benchmark can put every stage next to the machine's limit for it.
"""

from __future__ import annotations

import contextlib
import time

import jax

_records: list[dict] = []


@contextlib.contextmanager
def recording():
    """Record stage times while the block runs.

    Yields:
        A dict, filled with ``{stage name: seconds}`` (summed over repeated stages).
    """
    record: dict = {}
    _records.append(record)
    try:
        yield record
    finally:
        _records.remove(record)


def timed(name: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, timed as stage ``name`` when a record is open."""
    if not _records:
        return fn(*args, **kwargs)
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args, **kwargs))
    elapsed = time.perf_counter() - t0
    for record in _records:
        record[name] = record.get(name, 0.0) + elapsed
    return out
