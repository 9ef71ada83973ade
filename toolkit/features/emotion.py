"""Video-side emotion inputs: Diff-V2M's colour features (the offline default) or a valence/arousal model.

Diff-V2M's "emotion" branch reads colour features of the frames, not the output of an emotion recogniser;
`colour_mood` is that stand-in, named for what it is: per frame, a joint RGB histogram (linear binning) and the
mean and spread of HSV saturation and value. A user with an emotion model plugs it in as `valence_arousal`
(`model: "package.module:function"`, called with the frames and their rate, returning valence and arousal per
frame); conditioners read either through the same input key kind (`frames`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from toolkit.errors import UserError
from toolkit.features.colour import colour_histograms
from toolkit.features.kinds import FRAMES, Feature
from toolkit.features.registry import Extractor, register_extractor
from toolkit.utils.ranges import Range


def saturation_value_stats(frames: np.ndarray) -> np.ndarray:
    """Per frame: mean and standard deviation of HSV saturation and of HSV value, in [0, 1] → (T, 4)."""
    x = frames.reshape(len(frames), -1, 3).astype(np.float32) / 255.0
    value, low = x.max(-1), x.min(-1)
    saturation = (value - low) / np.maximum(value, 1e-6)
    return np.stack([saturation.mean(1), saturation.std(1), value.mean(1), value.std(1)], axis=1)


@register_extractor("colour_mood")
class ColourMood(Extractor):
    """Output `features` (T, bins³ + 4): each frame's joint RGB histogram, then mean and std of HSV saturation
    and value. Colour statistics, not an emotion estimate (see the module docstring)."""

    kind = "video"
    ranges = {"bins": Range(1, 16)}

    def __init__(self, bins: int = 8) -> None:
        if not 1 <= int(bins) <= 16:
            raise UserError(f"features.extractors.colour_mood.bins: must be in 1..16, got {bins}")
        self.bins = int(bins)

    def outputs(self) -> dict[str, Feature]:
        return {"features": FRAMES}

    def config(self) -> dict:
        return {"bins": self.bins, "histogram": "rgb-joint-linear", "stats": "hsv-s-v-mean-std"}

    def __call__(self, frames: Any) -> dict[str, np.ndarray]:
        array = frames.array
        return {"features": np.concatenate([colour_histograms(array, self.bins), saturation_value_stats(array)],
                                           axis=1).astype(np.float32)}


@register_extractor("valence_arousal")
class ValenceArousal(Extractor):
    """Output `va` (T, 2): valence and arousal per frame from a user's emotion model (`model` names a function
    `f(frames (T, H, W, 3) uint8, fps) -> (T, 2)` as "package.module:function")."""

    kind = "video"

    def __init__(self, model: str | None = None) -> None:
        if not model or ":" not in str(model):
            raise UserError("features.extractors.valence_arousal.model: name your emotion model as "
                            "'package.module:function' (none ships offline; `colour_mood` is the default input)")
        self.model = str(model)
        self._function: Callable[..., Any] | None = None

    def outputs(self) -> dict[str, Feature]:
        return {"va": FRAMES}

    def config(self) -> dict:
        return {"model": self.model}

    def _load(self) -> Callable[..., Any]:
        if self._function is None:
            module, _, name = self.model.partition(":")
            try:
                self._function = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError) as err:
                raise UserError(f"features.extractors.valence_arousal.model: cannot load {self.model!r} "
                                f"({err})") from None
        return self._function

    def __call__(self, frames: Any) -> dict[str, np.ndarray]:
        va = np.asarray(self._load()(frames.array, float(frames.fps)), dtype=np.float32)
        if va.shape != (len(frames.array), 2):
            raise UserError(f"valence_arousal: {self.model} returned shape {va.shape}, expected "
                            f"({len(frames.array)}, 2): one valence and one arousal per frame")
        return {"va": va}
