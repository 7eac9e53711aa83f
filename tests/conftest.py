import numpy as np
import pytest

import rfdiff


@pytest.fixture(scope="session")
def paper_instances():
    """Exact instances at the reference setting d=100, ψp=16, ψn=4, t=0.1, tanh (2 seeds)."""
    problem = rfdiff.Problem(16, 4, 0.1, "tanh")
    return [rfdiff.finite_size_instance(problem, 100, seed=s, method="exact") for s in (0, 1)]


@pytest.fixture(scope="session")
def paper_flows(paper_instances):
    return [rfdiff.gradient_flow(inst) for inst in paper_instances]


def loglog_slope(x, y):
    """Least-squares slope of log y against log x, and its standard error."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, res, *_ = np.linalg.lstsq(A, ly, rcond=None)
    dof = max(len(lx) - 2, 1)
    sigma2 = float(np.sum((ly - A @ coef) ** 2)) / dof
    cov = sigma2 * np.linalg.inv(A.T @ A)
    return float(coef[0]), float(np.sqrt(cov[0, 0]))
