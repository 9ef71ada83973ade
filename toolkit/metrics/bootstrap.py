"""95% bootstrap confidence intervals for dataset-level metrics (percentile method, scipy.stats.bootstrap).

Per-item metrics (BHS, KL, accuracies) resample their per-pair values; set-level metrics (FAD, density,
IS) resample pair indices and recompute the whole statistic on each resample.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def bootstrap_mean_ci(
    values: np.ndarray, confidence: float = 0.95, n_resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Percentile CI of the mean of per-item `values` (NaNs dropped); (nan, nan) for fewer than 2 values."""
    from scipy.stats import bootstrap

    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return (float("nan"), float("nan"))
    if np.all(values == values[0]):  # degenerate: every resample has the same mean
        return (float(values[0]), float(values[0]))
    res = bootstrap(
        (values,),
        np.mean,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return (float(res.confidence_interval.low), float(res.confidence_interval.high))


def bootstrap_statistic_ci(
    n_items: int,
    statistic: Callable[[np.ndarray], float],
    confidence: float = 0.95,
    n_resamples: int = 200,
    seed: int = 0,
    bounds: tuple[float, float] = (-np.inf, np.inf),
) -> tuple[float, float]:
    """CI of `statistic(indices)` from resamples of `range(n_items)` with replacement.

    Set-level statistics are biased under resampling: duplicated items shrink a set's diversity, which
    raises FAD and lowers IS and coverage, sometimes by more than the spread. So the percentile interval is
    shifted by the bootstrap estimate of that bias (mean of resamples − full-set value) to centre it on the
    full-set value, then clipped to the statistic's `bounds` (FAD ≥ 0, coverage ≤ 1...). Resamples where the
    statistic is undefined (ValueError or NaN) are skipped.
    """
    if n_items < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n_resamples):
        try:
            stats.append(float(statistic(rng.integers(0, n_items, size=n_items))))
        except ValueError:
            continue
    stats = np.asarray(stats)
    stats = stats[np.isfinite(stats)]
    if stats.size == 0:
        return (float("nan"), float("nan"))
    tail = (1.0 - confidence) / 2 * 100
    lo, hi = np.percentile(stats, [tail, 100 - tail])
    bias = stats.mean() - float(statistic(np.arange(n_items)))
    lo, hi = np.clip([lo - bias, hi - bias], *bounds)
    return (float(lo), float(hi))
