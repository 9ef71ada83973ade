"""VidMusician's rhythm cue: inter-frame cosine distance of CLIP local (patch-token) features."""

from __future__ import annotations

from typing import Any

import numpy as np

from toolkit.features.kinds import FRAMES, Feature
from toolkit.features.registry import Extractor, get_extractor, register_extractor


def interframe_distance(local: np.ndarray) -> np.ndarray:
    """`d_t = 1 - cos(f_t, f_{t-1})` with `f_t` frame t's patch tokens flattened into one vector; `d_0 = 0`.

    Flattening keeps where in the frame a token sits, so local change registers even when the pooled
    (global) embedding barely moves. Zero vectors count as identical to each other (distance 0 when both are).
    """
    local = np.asarray(local, dtype=np.float64)
    flat = local.reshape(len(local), -1)
    distance = np.zeros(len(flat), dtype=np.float32)
    if len(flat) < 2:
        return distance
    norms = np.linalg.norm(flat, axis=1)
    dots = np.einsum("td,td->t", flat[1:], flat[:-1])
    denom = norms[1:] * norms[:-1]
    cos = np.divide(dots, denom, out=(norms[1:] == norms[:-1]).astype(np.float64), where=denom > 0)
    distance[1:] = 1.0 - np.clip(cos, -1.0, 1.0)
    return distance


@register_extractor("interframe")
class InterframeDistance(Extractor):
    """The curve `distance` (T,) of `interframe_distance` over the local features of the `clip` extractor.

    `clip`: the kwargs of the clip extractor it reads (its outputs arrive via the pipeline, so a clip entry
    computed or cached once serves both).
    """

    kind = "video"
    requires = ("clip",)
    reads_source = False

    def __init__(self, clip: dict[str, Any] | None = None):
        self.clip = get_extractor("clip", **(clip or {}))

    def outputs(self) -> dict[str, Feature]:
        return {"distance": FRAMES}

    def config(self) -> dict:
        return {"clip": self.clip.config(), "feature": "local", "definition": "1-cos(flat_t,flat_t-1),d0=0"}

    def upstream(self) -> dict[str, Extractor]:
        return {"clip": self.clip}

    def __call__(self, frames: Any, clip: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """The curve from `clip`'s outputs when given (as the pipeline does), else from running clip."""
        local = (clip if clip is not None else self.clip(frames))["local"]
        return {"distance": interframe_distance(local)}
