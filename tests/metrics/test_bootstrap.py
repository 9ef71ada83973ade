"""Bootstrap intervals: known answers for the percentile and basic intervals, and every set resampled."""

from __future__ import annotations

import itertools
from math import comb, factorial

import numpy as np
import pytest

from toolkit.metrics.bootstrap import (
    basic_interval,
    bootstrap_mean_ci,
    bootstrap_sets_ci,
    bootstrap_statistic_ci,
    percentile_interval,
    resample_statistic,
)


def _distinct(idx: np.ndarray) -> float:
    return float(np.unique(idx).size)


def _exact_quantiles(atoms: np.ndarray, probs: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Lower/upper quantiles of a discrete distribution: first atoms whose CDF reaches each tail."""
    order = np.argsort(atoms)
    atoms, cdf = atoms[order], np.cumsum(probs[order])
    tail = (1 - confidence) / 2
    return float(atoms[np.searchsorted(cdf, tail)]), float(atoms[np.searchsorted(cdf, 1 - tail)])


def _distinct_count_distribution(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact law of the number of distinct items among n draws from n: C(n,k) k! S(n,k) / n^n."""
    stirling = [[0] * (n + 1) for _ in range(n + 1)]
    stirling[0][0] = 1
    for i in range(1, n + 1):
        for k in range(1, i + 1):
            stirling[i][k] = k * stirling[i - 1][k] + stirling[i - 1][k - 1]
    ks = np.arange(1, n + 1)
    probs = np.array([comb(n, k) * factorial(k) * stirling[n][k] / n**n for k in ks])
    return ks.astype(float), probs


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
    assert all(np.isnan(bootstrap_statistic_ci(1, _distinct)))
    assert all(np.isnan(percentile_interval(np.array([]))))


def test_percentile_interval_of_a_tiny_sample_matches_the_enumerated_bootstrap():
    # All 4^4 resamples of [1, 2, 3, 4] are equally likely; the mean's 2.5% and 97.5% quantiles are 1.5 and 3.5
    # (P(mean <= 1.25) = 5/256 < 2.5% <= P(mean <= 1.5) = 15/256), so 20000 resamples land on them exactly.
    values = np.array([1.0, 2.0, 3.0, 4.0])
    means = np.array([np.mean(c) for c in itertools.product(values, repeat=4)])
    assert _exact_quantiles(means, np.full(means.size, 1 / means.size)) == (1.5, 3.5)
    assert bootstrap_statistic_ci(4, lambda idx: values[idx].mean(), n_resamples=20000, seed=0) == (1.5, 3.5)


def test_percentile_interval_is_not_shifted_onto_the_full_set_value():
    # A resample of 50 items holds ~31.8 distinct ones; the exact law of that count gives the interval. The old
    # bias shift would have centred the interval on 50, the full set's count.
    ks, probs = _distinct_count_distribution(50)
    exact_lo, exact_hi = _exact_quantiles(ks, probs)
    lo, hi = bootstrap_statistic_ci(50, _distinct, n_resamples=4000, seed=1)
    assert abs(lo - exact_lo) <= 1 and abs(hi - exact_hi) <= 1
    assert hi < 40


def test_two_sample_percentile_interval_matches_the_enumerated_bootstrap():
    a, b = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0])
    diffs = np.array(
        [np.mean(ra) - np.mean(rb) for ra in itertools.product(a, repeat=3) for rb in itertools.product(b, repeat=2)]
    )
    exact = _exact_quantiles(diffs, np.full(diffs.size, 1 / diffs.size))
    lo, hi = bootstrap_sets_ci([3, 2], lambda ia, ib: a[ia].mean() - b[ib].mean(), n_resamples=20000, seed=2)
    assert lo == pytest.approx(exact[0], abs=1 / 6 + 1e-9) and hi == pytest.approx(exact[1], abs=1 / 6 + 1e-9)


def test_every_set_is_resampled_independently_unless_paired():
    first = bootstrap_sets_ci([50, 30], lambda ia, ib: _distinct(ia), n_resamples=500)
    second = bootstrap_sets_ci([50, 30], lambda ia, ib: _distinct(ib), n_resamples=500)
    assert first[1] < 40 and second[1] < 25  # both sets lose items to duplicates: neither is held fixed
    same = resample_statistic([40, 40], lambda ia, ib: float(np.array_equal(ia, ib)), n_resamples=200)
    assert same.size == 200 and same.sum() == 0
    paired = resample_statistic([40, 40], lambda ia, ib: float(np.array_equal(ia, ib)), n_resamples=200, paired=True)
    assert paired.sum() == 200
    with pytest.raises(ValueError, match="one size"):
        resample_statistic([40, 30], lambda ia, ib: 0.0, paired=True)


def test_undefined_resamples_are_left_out():
    def fussy(idx: np.ndarray) -> float:
        if idx[0] == 0:
            raise ValueError("undefined")
        return np.nan if idx[0] == 1 else 1.0

    values = resample_statistic([4], fussy, n_resamples=400, seed=0)
    assert 0 < values.size < 400 and np.all(values == 1.0)


def test_basic_interval_reflects_the_quantiles_around_the_plug_in():
    values = np.linspace(10.0, 14.0, 401)  # 2.5% and 97.5% quantiles: 10.1 and 13.9
    lo, hi = basic_interval(values, estimate=11.0, plug_in=10.0)
    assert (lo, hi) == pytest.approx((11.0 - 3.9, 11.0 - 0.1))
    assert basic_interval(values, estimate=1.0, plug_in=10.0, bounds=(0.0, np.inf)) == pytest.approx((0.0, 0.9))


def test_set_statistic_ci_is_clipped_to_the_statistics_range():
    values = np.random.default_rng(2).exponential(size=40)
    lo, hi = bootstrap_statistic_ci(40, lambda idx: values[idx].mean() - values.mean(), bounds=(0.0, np.inf))
    assert lo == 0.0 and hi > 0.0
