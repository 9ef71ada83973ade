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

    Each channel's range is cut into `bins` equal bins, and a value is shared between the two nearest bin
    centres in proportion to its distance (trilinear over the three channels), so a small change of colour
    moves little mass: a flash of a few grey levels on a colour near a bin edge is not a new picture. Bin index
    is `(r * bins + g) * bins + b`, so pure red (255, 0, 0) lands wholly in bin `(bins - 1) * bins * bins`. A
    joint histogram tells colours apart that share channel marginals (red+cyan vs white+black), which
    per-channel histograms cannot.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise UserError(f"colour: frames must be (T,H,W,3) uint8, got {frames.shape} {frames.dtype}")
    if not 1 <= bins <= 256:
        raise UserError(f"features.colour.bins must be in 1..256, got {bins}")
    n_frames = len(frames)
    # Position in bin units, bin k's centre at k: the lower neighbour and the share that goes to the upper one.
    position = frames.reshape(n_frames, -1, 3).astype(np.float32) * (bins / 256.0) - 0.5
    lower = np.floor(position)
    upper_share = position - lower
    lower = lower.astype(np.int64)
    frame_offset = np.arange(n_frames)[:, None] * bins**3  # one bincount for all frames
    counts = np.zeros(n_frames * bins**3, np.float64)
    for corner in range(8):  # the 2 x 2 x 2 neighbouring bins
        index, weight = frame_offset, np.ones(lower.shape[:2], np.float32)
        for channel, stride in enumerate((bins * bins, bins, 1)):
            up = (corner >> channel) & 1
            index = index + stride * np.clip(lower[..., channel] + up, 0, bins - 1)
            weight = weight * (upper_share[..., channel] if up else 1.0 - upper_share[..., channel])
        counts += np.bincount(index.ravel(), weights=weight.ravel(), minlength=len(counts))
    counts = counts.reshape(n_frames, bins**3)
    return (counts / np.maximum(counts.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)


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
        return {"bins": self.bins, "space": "rgb-joint", "binning": "linear"}

    def __call__(self, frames: Any) -> dict[str, np.ndarray]:
        return {"histogram": colour_histograms(frames.array, self.bins)}
