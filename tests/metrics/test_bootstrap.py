"""Bootstrap confidence intervals cover what they should."""

from __future__ import annotations

import numpy as np

from toolkit.metrics.bootstrap import bootstrap_mean_ci, bootstrap_statistic_ci


def test_ci_contains_the_true_mean_of_a_known_distribution():
    values = np.random.default_rng(3).normal(loc=3.0, scale=1.0, size=400)
    lo, hi = bootstrap_mean_ci(values)
    assert lo < 3.0 < hi
    assert hi - lo < 0.3  # about 2·1.96·1/√400 = 0.196 wide


def test_ci_coverage_is_close_to_95_percent():
    rng = np.random.default_rng(0)
    covered = 0
    for rep in range(120):
        lo, hi = bootstrap_mean_ci(rng.exponential(2.0, size=60), n_resamples=400, seed=rep)
        covered += lo < 2.0 < hi
    assert 0.85 <= covered / 120 <= 0.99


def test_degenerate_and_tiny_inputs():
    assert bootstrap_mean_ci(np.ones(10)) == (1.0, 1.0)
    assert all(np.isnan(bootstrap_mean_ci(np.array([1.0]))))


def test_set_statistic_ci_is_centred_on_the_full_set_value():
    # The number of distinct items drops under resampling; the bias correction keeps the interval around
    # the full-set value instead of entirely below it.
    def distinct(idx: np.ndarray) -> float:
        return float(np.unique(idx).size)

    lo, hi = bootstrap_statistic_ci(50, distinct, n_resamples=300)
    assert lo < 50 < hi


def test_set_statistic_ci_of_a_mean_matches_the_plain_bootstrap():
    values = np.random.default_rng(1).normal(size=300)
    lo, hi = bootstrap_statistic_ci(300, lambda idx: values[idx].mean(), n_resamples=1000)
    ref_lo, ref_hi = bootstrap_mean_ci(values)
    assert abs(lo - ref_lo) < 0.03 and abs(hi - ref_hi) < 0.03


def test_set_statistic_ci_is_clipped_to_the_statistics_range():
    values = np.random.default_rng(2).exponential(size=40)
    lo, hi = bootstrap_statistic_ci(40, lambda idx: values[idx].mean() - values.mean(), bounds=(0.0, np.inf))
    assert lo == 0.0 and hi > 0.0
