"""Per-clip values of a report row: each clip's values across the row's trials (seeds), for intervals that
resample clips with every seed's value inside the clip, and for paired differences on shared clips."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from toolkit.reports.runs import RunRecord

RESAMPLES = 1000  # bootstrap resamples of every interval over clips in a report


def clip_means(members: Sequence[RunRecord], metric: str) -> dict[str, float] | None:
    """Clip id → the clip's mean over the row's trials, over the clips every trial scored; None when a trial
    has no per-clip values for `metric` (a set metric, or a run without its evaluation artifact)."""
    tables = [r.per_clip.get(metric) for r in members]
    if not tables or any(not t for t in tables):
        return None
    shared = set.intersection(*(set(t) for t in tables))
    return {c: float(np.mean([t[c] for t in tables])) for c in sorted(shared)} or None
