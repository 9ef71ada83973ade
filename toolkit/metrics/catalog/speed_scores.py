"""Cost of generation, from the timings written beside the generated clips."""

from __future__ import annotations

from toolkit.metrics.context import EvalContext
from toolkit.metrics.registry import MINIMIZE, Metric, register_metric


@register_metric("rtf", "real-time factor: seconds of generation per second of audio")
class RealTimeFactor(Metric):
    """Generation seconds over audio seconds, per clip (feature extraction not included)."""

    needs = ("timings",)
    direction = MINIMIZE

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        return {i: ctx.notes.timings[i].rtf for i in ctx.ids if i in ctx.notes.timings}


@register_metric("seconds_per_clip", "seconds of generation per clip")
class SecondsPerClip(Metric):
    """Generation seconds per clip (feature extraction not included)."""

    needs = ("timings",)
    direction = MINIMIZE

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        return {i: ctx.notes.timings[i].generation_seconds for i in ctx.ids if i in ctx.notes.timings}
