"""Simulation: the FAD interval covers the population FD at its nominal rate, where that is possible (n >= 2d).

Two Gaussians whose FD is known in closed form, d = 16 dims, n = 200 windows per set (12.5 per dim).
Plain FAD is biased upward here by about 1.0 (2.6 on average against a population FD of 1.64) while its
spread is 0.3, so a percentile interval of FAD never covers the truth; `fad_ci`'s basic bootstrap does.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from toolkit.metrics.bootstrap import bootstrap_sets_ci
from toolkit.metrics.fad import fad, fad_ci, fad_inf

DIMS, WINDOWS, DATASETS, RESAMPLES = 16, 200, 50, 200
SHIFT, SCALE = 1.0, 1.2  # generated: mean shifted by 1 on one axis, every sd 1.2 (reference: standard normal)
POPULATION_FD = SHIFT**2 + DIMS * (1 - SCALE) ** 2  # ‖μa−μb‖² + Σ(σa−σb)² for diagonal covariances: 1.64


def _datasets(count: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    mean = np.zeros(DIMS)
    mean[0] = SHIFT
    return [(rng.normal(size=(WINDOWS, DIMS)), mean + SCALE * rng.normal(size=(WINDOWS, DIMS))) for _ in range(count)]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):  # tiny matrices: threads only add overhead
        yield


def test_fad_interval_covers_the_population_fd_at_the_nominal_rate():
    intervals = np.array(
        [fad_ci(a, b, n_resamples=RESAMPLES, seed=i) for i, (a, b) in enumerate(_datasets(DATASETS, seed=0))]
    )
    covered = int(np.sum((intervals[:, 0] <= POPULATION_FD) & (POPULATION_FD <= intervals[:, 1])))
    # Nominal 95%: covering 43 or more of 50 has probability 0.99 at that rate (binomial sd 3.1 points).
    assert covered >= 43, f"covered {covered}/{DATASETS}"
    assert np.mean(intervals[:, 1] - intervals[:, 0]) < 1.6  # not covering by being vacuous: ±1.96 sd ≈ 1.2


def test_a_percentile_interval_of_plain_fad_misses_the_population_fd():
    # What the interval would be without the pivot: centred on the doubly biased resampled FAD.
    misses = 0
    for i, (a, b) in enumerate(_datasets(10, seed=1)):

        def resampled(ia: np.ndarray, ib: np.ndarray, a: np.ndarray = a, b: np.ndarray = b) -> float:
            return fad(a[ia], b[ib])

        lo, _ = bootstrap_sets_ci([WINDOWS, WINDOWS], resampled, n_resamples=100, seed=i)
        misses += lo > POPULATION_FD
    assert misses == 10


def test_fad_inf_removes_the_bias_that_plain_fad_has():
    data = _datasets(40, seed=2)
    plain = np.array([fad(a, b) for a, b in data])
    extrapolated = np.array([fad_inf(a, b, scale_reference=True, seed=i).score for i, (a, b) in enumerate(data)])
    standard_error = extrapolated.std(ddof=1) / np.sqrt(extrapolated.size)
    assert abs(extrapolated.mean() - POPULATION_FD) < 3 * standard_error
    assert plain.mean() - POPULATION_FD > 0.7
    # fadtk's convention (draws with replacement) only removes the resampling's own 1/N term: still biased.
    fadtk_style = np.array([fad_inf(a, b, replace=True, seed=i).score for i, (a, b) in enumerate(data[:10])])
    assert fadtk_style.mean() - POPULATION_FD > 0.7
