"""Wilson score intervals for binary per-clip rates (tempo accuracy, exact key accuracy).

A percentile bootstrap of a 0/1 mean has zero width whenever every clip agrees (10/10 correct gives [1, 1]),
and at n = 10 often collapses otherwise. The Wilson interval (Wilson 1927; recommended by Brown, Cai &
DasGupta 2001 for small n) stays inside [0, 1] and keeps a width: 10/10 gives [0.72, 1].
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """(lo, hi) Wilson score interval (no continuity correction) for `successes` out of `n` trials."""
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def wilson_interval_of(hits: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson interval of the rate of a 0/1 (or boolean) array of per-clip outcomes."""
    hits = np.asarray(hits)
    if hits.ndim != 1 or not np.isin(hits, (0, 1)).all():
        raise ValueError("expected a 1-d array of 0/1 outcomes")
    return wilson_interval(int(hits.sum()), hits.size, confidence)


def wilson_bounds(rate: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval's closed form for an observed `rate` over `n` units; `rate` may be a pooled
    mean of 0/1 outcomes (e.g. a clip's hit rate over several seeds), so it need not be a whole count over n."""
    from scipy.stats import norm

    if n < 1 or not 0.0 <= rate <= 1.0:
        raise ValueError(f"need n >= 1 and a rate in [0, 1], got {rate} over {n}")
    z = float(norm.ppf(0.5 + confidence / 2))
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))
