"""The `loudness` extractor: the music's RMS level in dB on a grid of its own rate."""

from __future__ import annotations

import numpy as np

from toolkit.errors import UserError
from toolkit.features.kinds import Feature
from toolkit.features.registry import Extractor, register_extractor
from toolkit.utils.ranges import Range

FLOOR_DB = -80.0  # silence reads as this level rather than -inf, so the curve stays finite


def rms_db(audio: np.ndarray, sample_rate: int, frame_rate: float) -> np.ndarray:
    """RMS level in dB (re 1.0, floored at `FLOOR_DB`) of mono `audio`, one value per `1 / frame_rate` s: frame
    k is centred on sample `k * hop` (hop = `round(sample_rate / frame_rate)`, so the grid is exact only when
    that ratio is an integer) and spans two hops. Returns `(1 + len(audio) // hop,)` float32."""
    y = np.asarray(audio, dtype=np.float64)
    if y.ndim != 1 or len(y) == 0:
        raise UserError(f"loudness: expected mono audio with samples, got shape {y.shape}")
    hop = max(1, round(sample_rate / frame_rate))
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(y, hop), 2 * hop)[::hop][: 1 + len(y) // hop]
    rms = np.sqrt(np.mean(windows**2, axis=1))
    return np.maximum(20.0 * np.log10(np.maximum(rms, 1e-12)), FLOOR_DB).astype(np.float32)


@register_extractor("loudness")
class Loudness(Extractor):
    """Output `rms` (T,): the music's RMS level in dB, `frame_rate` values per second."""

    kind = "audio"  # computed from the music: conditioners may train against it (a target), never read it
    ranges = {"frame_rate": Range(0, 1000, low_inclusive=False)}

    def __init__(self, frame_rate: float = 50.0) -> None:
        self.check_config({"frame_rate": frame_rate}, "features.extractors.loudness")
        self.frame_rate = float(frame_rate)

    def outputs(self) -> dict[str, Feature]:
        return {"rms": Feature("series", rate=self.frame_rate)}

    def config(self) -> dict:
        return {"frame_rate": self.frame_rate, "window": "2 hops, centred", "floor_db": FLOOR_DB}

    def __call__(self, x: tuple[np.ndarray, int]) -> dict[str, np.ndarray]:
        audio, sample_rate = x
        return {"rms": rms_db(audio, sample_rate, self.frame_rate)}
