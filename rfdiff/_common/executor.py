"""Embarrassingly parallel loops of finite-size runs on any ``concurrent.futures.Executor``.

Every loop of independent runs (validation ladders, phase-map confirmation, the generation
study, seed replicates) goes through :func:`map_tasks`. With ``executor=None`` the tasks
run here, one after the other; with an executor (a ``ProcessPoolExecutor`` on one machine,
``dask.distributed.Client(...).get_executor()`` or Ray's executor across machines) they are
submitted to it. No scheduling is done here: the executor owns it.

Results are identical to the serial loop because every task carries its own inputs,
seed included; nothing is drawn from a shared random state, and the results come back in
the order of the tasks whatever order they finish in.
"""

from __future__ import annotations

import concurrent.futures as cf
import pickle
from collections.abc import Callable, Sequence

__all__ = ["map_tasks", "check_executor", "check_picklable"]


def check_executor(executor):
    """``executor`` if it is None or a ``concurrent.futures.Executor``.

    Args:
        executor: the value passed as ``executor=``.

    Returns:
        ``executor`` unchanged.

    Raises:
        ValueError: for anything else, naming the value.
    """
    if executor is None or isinstance(executor, cf.Executor):
        return executor
    # duck typing: Dask's and Ray's executors subclass Executor, but a look-alike with
    # submit() is accepted too
    if callable(getattr(executor, "submit", None)):
        return executor
    raise ValueError(f"executor must be None or a concurrent.futures.Executor, "
                     f"got {executor!r}")


def check_picklable(obj, what: str):
    """``obj`` if it pickles, so that it can be sent to an executor's workers.

    Args:
        obj: the object (a task's arguments, a :class:`rfdiff.Problem`, ...).
        what: how the message names it.

    Returns:
        ``obj`` unchanged.

    Raises:
        ValueError: naming ``what`` and the pickling error.
    """
    try:
        pickle.dumps(obj)
    except Exception as err:  # any pickling failure means: cannot leave this process
        raise ValueError(
            f"{what} cannot be sent to the executor: {type(err).__name__}: {err}. "
            "Tasks must be picklable: a Problem with a custom activation must use a "
            "module-level function (not a lambda or a closure), or run with "
            "executor=None") from None
    return obj


def map_tasks(fn: Callable, tasks: Sequence[tuple], executor=None,
              progress: Callable | None = None) -> list:
    """``[fn(*task) for task in tasks]``, serially or on an executor, in task order.

    Args:
        fn: a module-level (picklable) function.
        tasks: argument tuples, one per run; each must carry its own seed.
        executor: None (run here, serially) or a ``concurrent.futures.Executor``.
        progress: optional callback ``progress(done, total, task)``, called in this
            process after each task finishes (in completion order on an executor).

    Returns:
        The results, in the order of ``tasks``.

    Raises:
        ValueError: for a bad executor, or a task that cannot be pickled (checked for
            every task before any is submitted).
    """
    executor = check_executor(executor)
    tasks = [tuple(t) for t in tasks]
    total = len(tasks)
    if executor is None:
        out = []
        for k, task in enumerate(tasks):
            out.append(fn(*task))
            if progress is not None:
                progress(k + 1, total, task)
        return out
    for k, task in enumerate(tasks):
        check_picklable((fn, task), f"task {k}")
    futures = {executor.submit(fn, *task): k for k, task in enumerate(tasks)}
    out = [None] * total
    try:
        for done, fut in enumerate(cf.as_completed(futures), 1):
            k = futures[fut]
            out[k] = fut.result()
            if progress is not None:
                progress(done, total, tasks[k])
    except BaseException:
        for fut in futures:  # do not leave the rest running after a failure
            fut.cancel()
        raise
    return out
