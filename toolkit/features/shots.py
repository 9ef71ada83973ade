"""Shot segmentation from colour-histogram change, with VeM's per-shot position and duration encodings."""

from __future__ import annotations

from typing import Any

import numpy as np

from toolkit.errors import UserError
from toolkit.features.colour import colour_histograms
from toolkit.features.kinds import FRAMES, Feature
from toolkit.features.registry import Extractor, register_extractor
from toolkit.utils.ranges import Range


def _tv(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance of two normalised histograms, in [0, 1]."""
    return 0.5 * float(np.abs(a - b).sum())


def shot_starts(
    hist: np.ndarray,
    times: np.ndarray,
    threshold: float,
    flash_frames: int = 1,
    min_shot_seconds: float = 0.0,
) -> list[int]:
    """Indices of the first frame of each shot (always starting with 0).

    A cut is a frame whose histogram differs from the current shot's last frame by more than `threshold`,
    unless within `flash_frames` frames the picture returns to that shot (a flash on a beat is not a new
    shot). After a cut the next `flash_frames` frames are taken as settling (a flash on the new shot's first
    frame is not a second cut), so shots shorter than `flash_frames + 1` frames are not resolved.
    Cuts closer than `min_shot_seconds` to the previous one are dropped.
    """
    starts, ref, t = [0], 0, 1
    while t < len(hist):
        if _tv(hist[ref], hist[t]) <= threshold:
            ref, t = t, t + 1  # follow gradual change frame by frame
            continue
        window = range(t + 1, min(t + 1 + flash_frames, len(hist)))
        back = next((u for u in window if _tv(hist[ref], hist[u]) <= threshold), None)
        if back is not None:
            t = back  # a flash: the shot goes on
            continue
        if times[t] - times[starts[-1]] >= min_shot_seconds:
            starts.append(t)
        ref = window[-1] if len(window) else t
        t = ref + 1
    return starts


@register_extractor("shots")
class ShotBoundaries(Extractor):
    """Shots and per-frame storyboard encodings.

    Outputs: `boundaries` (S-1,) cut times in s (start of every shot but the first); `segments` (S, 2) each
    shot's start and duration in s (the segment kind: one row per shot); per frame `index` (T,)
    shot index, `position` (T,) in [0, 1): time since its shot began over the shot's duration, `duration`
    (T,) its shot's length in s (the last shot ends one frame after the last frame); `distance` (T,) the
    histogram change from the previous frame (0 for the first), for inspection and threshold tuning.
    """

    kind = "video"
    # threshold: the total-variation distance between histograms that marks a cut
    ranges = {"threshold": Range(0, 1, low_inclusive=False, high_inclusive=False), "bins": Range(1, 32)}

    def __init__(self, threshold: float = 0.4, bins: int = 8, flash_frames: int = 1, min_shot_seconds: float = 0.0):
        if not 0.0 < threshold < 1.0:
            raise UserError(f"features.extractors.shots.threshold: must be in (0, 1), got {threshold}")
        self.threshold = float(threshold)
        self.bins = int(bins)
        self.flash_frames = int(flash_frames)
        self.min_shot_seconds = float(min_shot_seconds)

    def outputs(self) -> dict[str, Feature]:
        return {"boundaries": Feature("events"), "segments": Feature("segments"),
                "index": Feature("frames", categorical=True), "position": FRAMES,
                "duration": FRAMES, "distance": FRAMES}

    def config(self) -> dict:
        return {
            "threshold": self.threshold,
            "bins": self.bins,
            "flash_frames": self.flash_frames,
            "min_shot_seconds": self.min_shot_seconds,
            "distance": "tv-rgb-joint-linear",
        }

    def __call__(self, frames: Any) -> dict[str, np.ndarray]:
        hist = colour_histograms(frames.array, self.bins)
        times = np.asarray(frames.times, dtype=np.float64)
        if len(times) != len(hist) or len(hist) == 0:
            raise UserError(
                f"shots: need one time per frame and at least one frame (got {len(times)} times, {len(hist)} frames)"
            )
        starts = shot_starts(hist, times, self.threshold, self.flash_frames, self.min_shot_seconds)
        start_times = times[starts]
        end_time = times[-1] + 1.0 / float(frames.fps)
        durations = np.diff(np.append(start_times, end_time))
        index = np.zeros(len(hist), dtype=np.int32)
        index[starts[1:]] = 1
        index = np.cumsum(index).astype(np.int32)
        distance = np.zeros(len(hist), dtype=np.float32)
        distance[1:] = 0.5 * np.abs(np.diff(hist, axis=0)).sum(axis=1)
        return {
            "boundaries": start_times[1:],
            "segments": np.stack([start_times, durations], axis=1).astype(np.float32),
            "index": index,
            "position": ((times - start_times[index]) / durations[index]).astype(np.float32),
            "duration": durations[index].astype(np.float32),
            "distance": distance,
        }
