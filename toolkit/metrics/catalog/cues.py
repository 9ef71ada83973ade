"""Does the music follow the video's cues? Generated onsets against the world's true beats and cuts.

The micro world's video flashes on every beat and cuts on phrase boundaries, and its manifest holds both, so
these measure what a rhythm or transition conditioner is for, without any estimator on the video side.
"""

from __future__ import annotations

import librosa
import numpy as np

from toolkit.metrics import names, rhythm
from toolkit.metrics.context import EvalContext
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.registry import Metric, register_metric


def hit_fraction(events: np.ndarray, targets: np.ndarray, tolerance: float) -> float:
    """Fraction of `events` within ±tolerance of some target (NaN when either is empty)."""
    events, targets = np.asarray(events, np.float64), np.asarray(targets, np.float64)
    if events.size == 0 or targets.size == 0:
        return float("nan")
    return float(np.mean(np.abs(events[:, None] - targets[None, :]).min(axis=1) <= tolerance))


def onset_contrast(audio: np.ndarray, sample_rate: int, times: np.ndarray, tolerance: float) -> float:
    """Mean onset strength within ±tolerance of `times` over its mean over the whole clip (1 = no relation;
    NaN when no frame is near a time or the clip is silent)."""
    envelope = librosa.onset.onset_strength(y=np.asarray(audio, np.float32), sr=sample_rate)
    frames = librosa.frames_to_time(np.arange(len(envelope)), sr=sample_rate)
    near = (np.abs(frames[:, None] - np.asarray(times, np.float64)[None, :]) <= tolerance).any(axis=1)
    if not near.any() or envelope.mean() <= 0:
        return float("nan")
    return float(envelope[near].mean() / envelope.mean())


class _Cue(Metric):
    needs = ("generated", "truth")
    cue = "beats"

    def conventions(self, options: SuiteOptions) -> tuple[str, ...]:
        return (names.seconds(options.cue_tolerance_s),)

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        out = {}
        for n, pair in enumerate(ctx.pairs):
            record = ctx.notes.truth.get(pair.id, {})
            if self.cue in record:
                out[pair.id] = self.score(ctx, n, np.asarray(record[self.cue], np.float64), ctx.options.cue_tolerance_s)
        return out

    def score(self, ctx: EvalContext, index: int, times: np.ndarray, tolerance: float) -> float:
        raise NotImplementedError


@register_metric("on_beat", "share of generated onsets within the tolerance of a true beat")
class OnBeat(_Cue):
    """Fraction of the generated music's LORIS onsets within ±tolerance of one of the clip's true beats."""

    def score(self, ctx: EvalContext, index: int, times: np.ndarray, tolerance: float) -> float:
        return hit_fraction(ctx.onsets[1][index], times, tolerance)


@register_metric("beat_contrast", "onset strength near true beats over its clip mean (1 = no relation)")
class BeatContrast(_Cue):
    """Mean onset strength of the generated music near the true beats over its mean everywhere."""

    def score(self, ctx: EvalContext, index: int, times: np.ndarray, tolerance: float) -> float:
        return onset_contrast(ctx.audio(ctx.pairs[index].generated), rhythm.LORIS_SAMPLE_RATE, times, tolerance)


@register_metric("cut_hit", "share of true cuts with a generated onset within the tolerance")
class CutHit(_Cue):
    """Fraction of the clip's true cuts with a generated onset within ±tolerance."""

    cue = "cuts"

    def score(self, ctx: EvalContext, index: int, times: np.ndarray, tolerance: float) -> float:
        return hit_fraction(times, ctx.onsets[1][index], tolerance)


@register_metric("cut_contrast", "onset strength near true cuts over its clip mean (1 = no relation)")
class CutContrast(BeatContrast):
    """Mean onset strength of the generated music near the true cuts over its mean everywhere."""

    cue = "cuts"
