"""The `loudness_motion_corr` metric: does the generated music get louder where the video moves?"""

from __future__ import annotations

from typing import Any

import numpy as np

from toolkit.data.video import read_frames
from toolkit.metrics.registry import Metric, register_metric
from v2m_motion_loudness.loudness import rms_db
from v2m_motion_loudness.motion import motion_energy

FPS = 8.0  # the rate both curves are compared at


def loudness_motion_correlation(audio: np.ndarray, sample_rate: int, motion: np.ndarray, fps: float) -> float:
    """Pearson correlation between the RMS curve (dB) of mono `audio` and the video's motion energy `(T,)` at
    `fps`, with the loudness taken at that same rate and both cut to the shorter length. NaN when either curve
    is constant or shorter than two frames (a correlation is undefined there)."""
    loudness = rms_db(audio, sample_rate, fps).astype(np.float64)
    motion = np.asarray(motion, dtype=np.float64).reshape(-1)
    n = min(len(loudness), len(motion))
    if n < 2:
        return float("nan")
    a, b = loudness[:n] - loudness[:n].mean(), motion[:n] - motion[:n].mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


@register_metric("loudness_motion_corr", "Pearson correlation of generated loudness (RMS dB) with video motion")
class LoudnessMotionCorr(Metric):
    """Per clip: `loudness_motion_correlation` of the generated music with its video's motion at 8 fps."""

    needs = ("generated", "video")

    def conventions(self, options: Any) -> tuple[str, ...]:
        return (f"{FPS:g}fps",)

    def compute(self, ctx: Any, convention: str) -> dict[str, float]:
        rate = 16000
        out = {}
        for pair in ctx.pairs:
            if pair.id in ctx.notes.videos:
                motion = motion_energy(read_frames(ctx.notes.videos[pair.id], FPS, max_side=64).array)
                out[pair.id] = loudness_motion_correlation(ctx.audio(pair.generated, rate), rate, motion, FPS)
        return out
