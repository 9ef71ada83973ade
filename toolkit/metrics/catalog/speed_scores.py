"""Cost of generation, from the timings written beside the generated clips."""

from __future__ import annotations

from toolkit.metrics.context import EvalContext
from toolkit.metrics.registry import MINIMIZE, Metric, register_metric


class _Timed(Metric):
    """One number per timed clip, read from its `ClipTiming` (feature extraction not included)."""

    needs = ("timings",)
    direction = MINIMIZE
    field = "rtf"

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        timings = ctx.notes.timings
        return {i: float(getattr(timings[i], self.field)) for i in ctx.ids if i in timings}


@register_metric("rtf", "real-time factor: seconds of generation per second of audio")
class RealTimeFactor(_Timed):
    """Generation seconds over audio seconds, per clip."""


@register_metric("seconds_per_clip", "seconds of generation per clip")
class SecondsPerClip(_Timed):
    """Generation seconds per clip."""

    field = "generation_seconds"
