"""Paired differences of set metrics (FAD, density, coverage): each run logged its clips' embedding windows, so
the statistic is recomputed on one resample of the shared clips for every run of both rows, averaged over each
row's seeds, and differenced. Seed noise stays inside each resample; the clips are the unit drawn."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from toolkit.errors import UserError
from toolkit.metrics import fad, names, prdc
from toolkit.metrics.bootstrap import percentile_interval
from toolkit.reports.clips import RESAMPLES
from toolkit.reports.paired import Delta
from toolkit.reports.runs import RunRecord, Windows

Statistic = Callable[[np.ndarray, dict], float]  # of resampled clip indices and a cache shared within a resample


def _fad(windows: Windows, shared: list[str], k: int) -> Statistic:
    ref = [windows.reference[i] for i in shared]
    gen = [windows.generated[i] for i in shared]
    # Runs scored on the same clips hold the same reference windows: fit and root them once per resample.
    key = hashlib.sha1(b"".join(np.ascontiguousarray(r, np.float64).tobytes() for r in ref)).hexdigest()

    def statistic(idx: np.ndarray, cache: dict) -> float:
        if key not in cache:
            mu, cov = fad.gaussian_fit(np.concatenate([ref[i] for i in idx]))
            cache[key] = (mu, cov, fad.psd_sqrt(cov))
        mu, cov, root = cache[key]
        return fad.frechet_distance(mu, cov, *fad.gaussian_fit(np.concatenate([gen[i] for i in idx])), root_a=root)

    return statistic


def _neighbours(which: str) -> Callable[[Windows, list[str], int], Statistic]:
    def build(windows: Windows, shared: list[str], k: int) -> Statistic:
        # Each reference clip keeps the k-NN ball it has among all shared clips (as the suite's interval does):
        # balls recomputed on a resample would count a clip's own duplicates among its neighbours.
        real = np.stack([windows.reference[i].mean(axis=0) for i in shared])
        resampler = prdc.DensityCoverageResampler(real, np.stack([windows.generated[i].mean(axis=0) for i in shared]),
                                                  k)
        return lambda idx, cache: resampler(idx, idx)[which]

    return build


# base → a builder of the statistic of one run on resampled shared clips (paired: clip j on both sides)
STATISTICS: dict[str, Callable[[Windows, list[str], int], Statistic]] = {
    "fad": _fad,
    "density": _neighbours("density"),
    "coverage": _neighbours("coverage"),
}


def paired_set_delta(row: Sequence[RunRecord], baseline: Sequence[RunRecord], metric: str,
                     confidence: float = 0.95, resamples: int = RESAMPLES, seed: int = 0) -> Delta | None:
    """Row minus baseline for a set metric on the clips all their runs share, with a percentile bootstrap over
    those clips; None for a metric without a statistic here, runs without windows or of another embedding."""
    try:
        base, convention = names.parse(metric)
    except UserError:
        return None
    if base not in STATISTICS:
        return None
    embedding, _, rest = convention.partition(",")
    k = int(rest.removeprefix("k")) if rest.startswith("k") else 5
    runs = [[r.windows for r in row], [r.windows for r in baseline]]
    if any(w is None or w.embedding != embedding for side in runs for w in side):
        return None
    shared = sorted(set.intersection(*(set(w.generated) & set(w.reference) for side in runs for w in side)))
    if len(shared) < (2 if base == "fad" else k + 1):  # FAD needs two clips; density/coverage more than k
        return None
    statistics = [[STATISTICS[base](w, shared, k) for w in side] for side in runs]

    def delta(idx: np.ndarray) -> float:
        cache: dict = {}
        means = [np.mean([_value(statistic, idx, cache) for statistic in side]) for side in statistics]
        return float(means[0] - means[1])

    rng = np.random.default_rng(seed)
    # Many small eigendecompositions: BLAS threads only add contention (see toolkit.metrics.suite).
    with threadpool_limits(limits=1, user_api="blas"):
        values = np.array([delta(rng.integers(0, len(shared), len(shared))) for _ in range(resamples)])
        estimate = delta(np.arange(len(shared)))
    low, high = percentile_interval(values[np.isfinite(values)], confidence)
    return Delta(estimate, low, high, len(shared))


def _value(statistic: Statistic, idx: np.ndarray, cache: dict) -> float:
    try:
        return statistic(idx, cache)
    except ValueError:  # a resample too small for the statistic
        return float("nan")
