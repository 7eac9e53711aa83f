"""Loops of finite-size runs on executors: order, progress, pickling, identical results."""

import concurrent.futures as cf
import multiprocessing
import pickle

import numpy as np
import pytest

import rfdiff
from rfdiff._common import map_tasks

LADDER = dict(d=(8, 12), seeds=2, tau=[0.5, 50.0])


def _square_plus(x, seed):
    # a task whose result depends on its own seed only
    return x * x + np.random.default_rng(seed).normal()


def _cube(x):
    return x**3


def test_map_tasks_keeps_order_and_reports_progress():
    tasks = [(k, 100 + k) for k in range(8)]
    serial_seen = []
    serial = map_tasks(_square_plus, tasks, progress=lambda *a: serial_seen.append(a[:2]))
    assert serial_seen == [(k + 1, 8) for k in range(8)]
    with cf.ThreadPoolExecutor(3) as pool:
        seen = []
        pooled = map_tasks(_square_plus, tasks, pool, lambda done, total, t: seen.append(t))
    assert pooled == serial  # same seeds per task: same values, in task order
    assert sorted(seen) == tasks


def test_map_tasks_refuses_bad_executors_and_unpicklable_tasks():
    with pytest.raises(ValueError, match="executor must be None"):
        map_tasks(_square_plus, [(1, 2)], executor=4)
    with cf.ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="task 1 cannot"):
        map_tasks(_square_plus, [(1, 2), (lambda: 0, 3)], pool)


def test_problems_pickle():
    for act in ("tanh", "relu", "erf", "linear", "gelu"):
        pr = rfdiff.Problem(4, 2, 0.1, act, rfdiff.tools.two_atom())
        back = pickle.loads(pickle.dumps(pr))
        assert back == pr and back.activation is pr.activation
    custom = pickle.loads(pickle.dumps(rfdiff.Problem(4, 2, 0.1, _cube)))
    assert custom.activation.name == "_cube"
    # a lambda cannot leave the process: the executor path says so before submitting
    lam = rfdiff.Problem(4, 2, 0.1, lambda x: x**3)
    with cf.ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="problem cannot"):
        rfdiff.validate(lam, executor=pool, **LADDER)


@pytest.fixture(scope="module")
def serial():
    return rfdiff.validate(rfdiff.Problem(2, 1, 0.1, "tanh"), **LADDER)


def _assert_identical(a, b):
    for name in a.finite:
        np.testing.assert_array_equal(a.finite[name], b.finite[name])
        np.testing.assert_array_equal(a.fits[name].value, b.fits[name].value)
    np.testing.assert_array_equal(a.w1, b.w1)


@pytest.mark.slow
def test_process_pool_gives_the_serial_results_bit_for_bit(serial):
    ctx = multiprocessing.get_context("spawn")  # JAX does not survive fork
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        pooled = rfdiff.validate(rfdiff.Problem(2, 1, 0.1, "tanh"), executor=pool, **LADDER)
    _assert_identical(serial, pooled)


@pytest.mark.slow
def test_dask_cluster_gives_the_serial_results_bit_for_bit(serial):
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        pooled = rfdiff.validate(rfdiff.Problem(2, 1, 0.1, "tanh"),
                                 executor=client.get_executor(), **LADDER)
    _assert_identical(serial, pooled)


def test_phase_confirmation_on_an_executor_matches_serial():
    """simulated_time_boundaries: one task per ψ_n; a thread pool gives the same roots."""
    pr = rfdiff.Problem(2, 1, 0.1, "tanh")
    serial = rfdiff.tools.simulated_time_boundaries(pr, [0.5, 1.0], d=8)
    with cf.ThreadPoolExecutor(2) as pool:
        pooled = rfdiff.tools.simulated_time_boundaries(pr, [0.5, 1.0], d=8, executor=pool)
    for key in ("psi_n", "tau_gen", "tau_mem", "tau_gen_min"):
        np.testing.assert_array_equal(serial[key], pooled[key])


def test_report_seed_runs_on_an_executor_match_serial(tmp_path):
    """The report's seed replicates on an executor (threads here: the same submit/result
    path as a process pool, without the start-up cost) give the serial files exactly."""
    from rfdiff._report import make_report
    from rfdiff._report.report import _curves_section, _spectrum_section

    pr = rfdiff.Problem(4, 2, 0.1)
    out = {}
    for name, ex in (("serial", None), ("pool", cf.ThreadPoolExecutor(2))):
        make_report(tmp_path / name, pr, d=8, seeds=(0, 1), verbose=False, executor=ex,
                    sections=[_spectrum_section, _curves_section])
        out[name] = (tmp_path / name / "learning_curves.json").read_text()
    assert out["serial"] == out["pool"]
    with pytest.raises(ValueError, match="executor"):
        make_report(tmp_path / "bad", pr, d=8, executor="pool", verbose=False)
