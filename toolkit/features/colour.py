"""Per-frame colour histograms (Diff-V2M conditions on one; shot detection compares them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from toolkit.errors import UserError
from toolkit.features.kinds import FRAMES, Feature
from toolkit.features.registry import Extractor, register_extractor
from toolkit.utils.ranges import Range


def colour_histograms(frames: np.ndarray, bins: int = 8) -> np.ndarray:
    """Joint RGB histograms, (T, bins**3) float32, each row summing to 1.

    Channel values are cut into `bins` equal ranges; bin index is `(r * bins + g) * bins + b`, so pure red
    (255, 0, 0) lands in bin `(bins - 1) * bins * bins`. A joint histogram tells colours apart that share
    channel marginals (red+cyan vs white+black), which per-channel histograms cannot.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise UserError(f"colour: frames must be (T,H,W,3) uint8, got {frames.shape} {frames.dtype}")
    if not 1 <= bins <= 256:
        raise UserError(f"features.colour.bins must be in 1..256, got {bins}")
    n_frames = len(frames)
    q = (frames.reshape(n_frames, -1, 3).astype(np.int64) * bins) >> 8
    index = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]
    index += np.arange(n_frames)[:, None] * bins**3  # one bincount for all frames
    counts = np.bincount(index.ravel(), minlength=n_frames * bins**3).reshape(n_frames, bins**3)
    return (counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)).astype(np.float32)


@register_extractor("colour")
class ColourHistogram(Extractor):
    """Output `histogram` (T, bins**3): the normalised joint RGB histogram of each frame."""

    kind = "video"
    ranges = {"bins": Range(1, 32)}  # a joint RGB histogram: bins³ values per frame

    def __init__(self, bins: int = 8):
        self.bins = int(bins)

    def outputs(self) -> dict[str, Feature]:
        return {"histogram": FRAMES}

    def config(self) -> dict:
        return {"bins": self.bins, "space": "rgb-joint"}

    def __call__(self, frames: Any) -> dict[str, np.ndarray]:
        return {"histogram": colour_histograms(frames.array, self.bins)}
