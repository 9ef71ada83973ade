"""The `motion` extractor: how much each video frame differs from the one before."""

from __future__ import annotations

from typing import Any

import numpy as np

from toolkit.errors import UserError
from toolkit.features.kinds import FRAMES, Feature
from toolkit.features.registry import Extractor, register_extractor


def motion_energy(frames: np.ndarray) -> np.ndarray:
    """`e_t = mean |f_t - f_{t-1}| / 255` over pixels and channels of `(T, H, W, 3)` uint8 frames; `e_0 = 0`.
    Returns `(T,)` float32 in [0, 1]."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.dtype != np.uint8:
        raise UserError(f"motion: frames must be (T,H,W,C) uint8, got {frames.shape} {frames.dtype}")
    energy = np.zeros(len(frames), dtype=np.float32)
    for t in range(1, len(frames)):  # one pair at a time: a whole clip's int16 differences can be large
        diff = np.abs(frames[t].astype(np.int16) - frames[t - 1].astype(np.int16))
        energy[t] = diff.mean() / 255.0
    return energy


@register_extractor("motion")
class Motion(Extractor):
    """Output `energy` (T,): each frame's mean absolute difference from the previous frame, in [0, 1]."""

    kind = "video"

    def outputs(self) -> dict[str, Feature]:
        return {"energy": FRAMES}

    def config(self) -> dict:
        # No options; the definition is the cache key, so changing the formula must change this text.
        return {"definition": "mean|f_t-f_t-1|/255,e0=0"}

    def __call__(self, frames: Any) -> dict[str, np.ndarray]:
        return {"energy": motion_energy(frames.array)}
