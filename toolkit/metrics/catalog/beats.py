"""Rhythm against the reference music (BHS, BCS) and against the video's cuts (transition–beat IoU)."""

from __future__ import annotations

from toolkit.metrics import names, rhythm
from toolkit.metrics.context import EvalContext
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.registry import Metric, register_metric


class _BeatHits(Metric):
    """LORIS onsets of the generated vs the reference music, binned; one name per bin size (`bhs[0.2s]`)."""

    needs = ("generated", "reference")
    side = 0

    def conventions(self, options: SuiteOptions) -> tuple[str, ...]:
        return tuple(names.seconds(float(b)) for b in options.beat_bins_s)

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        bin_seconds = float(convention.removesuffix("s"))
        ref, gen = ctx.onsets
        return {p.id: rhythm.beat_hit_scores(ref[n], gen[n], ctx.duration(n), bin_seconds)[self.side]
                for n, p in enumerate(ctx.pairs)}


@register_metric("bhs", "beat hit score: share of reference onset bins a generated onset hits (LORIS)")
class BeatHitScore(_BeatHits):
    """BHS: hits / reference onset bins."""


@register_metric("bcs", "beat coverage score: share of generated onset bins that hit a reference onset bin (LORIS)")
class BeatCoverageScore(_BeatHits):
    """BCS: hits / generated onset bins."""

    side = 1


@register_metric("tb_iou", "IoU of video cuts and generated beats, matched within a tolerance (VeM)")
class TransitionBeatIou(Metric):
    """Transition–beat IoU of the clip's video cuts and the generated music's librosa beats."""

    needs = ("generated", "cuts")

    def conventions(self, options: SuiteOptions) -> tuple[str, ...]:
        return (names.seconds(options.tb_tolerance_s),)

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        cuts, beats = ctx.notes.cuts, ctx.generated_beats
        return {p.id: rhythm.transition_beat_iou(cuts[p.id], beats[n], ctx.options.tb_tolerance_s)
                for n, p in enumerate(ctx.pairs) if p.id in cuts}
