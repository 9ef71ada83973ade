"""Metrics that ask the model which generated the music."""

from __future__ import annotations

from toolkit.metrics.context import EvalContext
from toolkit.metrics.registry import Metric, register_metric


@register_metric("nll_gain", "decoder cross-entropy on the clip's music without its video minus with it (nats/token)")
class VideoNllGain(Metric):
    """Per clip: how much the video lowers the decoder's teacher-forced cross-entropy on the clip's own music.
    0 for a model that reads no video; positive when the conditioners take information from it."""

    needs = ("reference", "model")

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        return ctx.scorer.video_nll_gain(ctx.ids)
