"""Learning-rate schedule: linear warmup, then cosine decay to a floor, restarted at each stage boundary."""

from __future__ import annotations

import math


def warmup_cosine(step: int, total: int, warmup: int, min_ratio: float) -> float:
    """The lr multiplier at `step` (0-based) of a span of `total` steps: `(step+1)/warmup` during warmup (its
    last step at the full rate), then a cosine that reaches `min_ratio` at the span's last step."""
    if total <= 0:
        raise ValueError(f"a schedule needs at least one step, got {total}")
    warmup = max(0, min(int(warmup), total))
    if step < warmup:
        return (step + 1) / warmup
    span = total - warmup
    progress = (step - warmup + 1) / max(1, span)  # steps past the span stay at the floor
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
