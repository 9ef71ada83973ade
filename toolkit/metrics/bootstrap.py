"""95% bootstrap confidence intervals for dataset-level metrics.

Per-item metrics (BHS, KL, accuracies) resample their per-pair values (`bootstrap_mean_ci`). Set-level metrics
(FAD, density, coverage, IS) resample the items of every set they read and recompute the whole statistic on each
resample (`bootstrap_sets_ci`, `bootstrap_statistic_ci`); the interval is the plain percentile interval of those
values, never shifted. A statistic that is biased at the sample size (FAD is, by about d²/2n) needs a pivot
instead, `basic_interval` with the statistic's value on the bootstrap world's population (see
`toolkit.metrics.fad.fad_ci`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def resample_statistic(
    sizes: Sequence[int],
    statistic: Callable[..., float],
    n_resamples: int = 1000,
    seed: int = 0,
    paired: bool = False,
) -> np.ndarray:
    """Finite values of `statistic(*indices)` over `n_resamples` resamples, one index array per set.

    Each set of `sizes[i]` items is drawn with replacement, independently of the others; `paired` draws one
    index array for all sets instead (equal sizes: item j of every set belongs to the same unit, e.g. a
    generated clip and the reference clip of the same video). Resamples where the statistic is undefined
    (ValueError or a non-finite value) are left out.
    """
    sizes = [int(s) for s in sizes]
    if paired and len(set(sizes)) > 1:
        raise ValueError(f"paired resampling needs sets of one size, got {sizes}")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        if paired:
            indices = [rng.integers(0, sizes[0], size=sizes[0])] * len(sizes)
        else:
            indices = [rng.integers(0, size, size=size) for size in sizes]
        try:
            values.append(float(statistic(*indices)))
        except ValueError:
            continue
    values = np.asarray(values, np.float64)
    return values[np.isfinite(values)]


def percentile_interval(
    values: np.ndarray, confidence: float = 0.95, bounds: tuple[float, float] = (-np.inf, np.inf)
) -> tuple[float, float]:
    """The central `confidence` range of bootstrap `values`, clipped to `bounds`; (nan, nan) when empty."""
    values = np.asarray(values, np.float64)
    if values.size == 0:
        return (float("nan"), float("nan"))
    tail = (1.0 - confidence) / 2 * 100
    lo, hi = np.clip(np.percentile(values, [tail, 100 - tail]), *bounds)
    return (float(lo), float(hi))


def basic_interval(
    values: np.ndarray,
    estimate: float,
    plug_in: float,
    confidence: float = 0.95,
    bounds: tuple[float, float] = (-np.inf, np.inf),
) -> tuple[float, float]:
    """Basic (pivotal) bootstrap interval: `estimate − (q − plug_in)` at the upper and lower quantiles q.

    `plug_in` is the estimand's value on the bootstrap world's population (the empirical distribution of the
    data), so `values − plug_in` mimics the estimator's error, bias included. This is what lets the interval of
    a biased estimator cover the population value; a percentile interval would sit on the biased side.
    """
    lo, hi = percentile_interval(values, confidence)
    if np.isnan(lo):
        return (lo, hi)
    lo, hi = np.clip([estimate - (hi - plug_in), estimate - (lo - plug_in)], *bounds)
    return (float(lo), float(hi))


def bootstrap_sets_ci(
    sizes: Sequence[int],
    statistic: Callable[..., float],
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    bounds: tuple[float, float] = (-np.inf, np.inf),
    paired: bool = False,
) -> tuple[float, float]:
    """Percentile CI of a statistic of several sets, every set resampled (see `resample_statistic`).

    The interval describes the statistic's spread at these sample sizes: resampling duplicates items, which
    shifts some set statistics (FAD up, coverage down), and no shift is applied to hide that.
    """
    if min(sizes) < 2:
        return (float("nan"), float("nan"))
    values = resample_statistic(sizes, statistic, n_resamples, seed, paired)
    return percentile_interval(values, confidence, bounds)


def bootstrap_statistic_ci(
    n_items: int,
    statistic: Callable[[np.ndarray], float],
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    bounds: tuple[float, float] = (-np.inf, np.inf),
) -> tuple[float, float]:
    """Percentile CI of `statistic(indices)` from resamples of `range(n_items)` (one set, e.g. IS)."""
    return bootstrap_sets_ci([n_items], statistic, confidence, n_resamples, seed, bounds)
