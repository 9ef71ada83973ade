"""Paired differences to a baseline row: the arms of a sweep are scored on the same test clips, so each clip's
difference (row minus baseline, each side its mean over its seeds) removes the clip-to-clip spread that an
unpaired comparison carries. The interval is a 95% percentile bootstrap over clips."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toolkit.metrics.bootstrap import bootstrap_mean_ci
from toolkit.reports.clips import RESAMPLES, clip_means
from toolkit.reports.runs import RunRecord


@dataclass(frozen=True)
class Delta:
    """A row's paired difference to the baseline row on `n_clips` shared clips, with its 95% interval."""

    mean: float
    low: float
    high: float
    n_clips: int

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_delta(row: Sequence[RunRecord], baseline: Sequence[RunRecord], metric: str,
                 confidence: float = 0.95) -> Delta | None:
    """Mean over shared clips of (row's clip mean − baseline's clip mean), with its interval; None for a set
    metric or runs without per-clip values, or fewer than two shared clips."""
    ours, theirs = clip_means(row, metric), clip_means(baseline, metric)
    if ours is None or theirs is None:
        return None
    shared = sorted(ours.keys() & theirs.keys())
    if len(shared) < 2:
        return None
    differences = np.array([ours[c] - theirs[c] for c in shared])
    low, high = bootstrap_mean_ci(differences, confidence, RESAMPLES)
    return Delta(float(differences.mean()), low, high, len(shared))
