"""The `loudness_motion_corr` metric: does the generated music get louder where the video moves?"""

from __future__ import annotations

import numpy as np

from toolkit.metrics.registry import register_metric
from v2m_motion_loudness.loudness import rms_db


@register_metric("loudness_motion_corr", "Pearson correlation of generated loudness (RMS dB) with video motion")
def loudness_motion_corr(audio: np.ndarray, sample_rate: int, motion: np.ndarray, fps: float) -> float:
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
