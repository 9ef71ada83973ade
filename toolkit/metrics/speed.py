"""Generation speed: seconds per clip and real-time factor (generation time ÷ audio duration).

Feature extraction is timed separately from generation, and every number is reported with the batch size
and device it was measured on. Generators record one line per clip in `timings.jsonl` beside their outputs:
`{"id": ..., "generation_seconds": ..., "audio_seconds": ..., "feature_seconds": ..., "batch_size": ...,
"device": ...}` (the last three optional); `toolkit evaluate` reads it to report `rtf`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.errors import UserError

TIMINGS_FILE = "timings.jsonl"


@dataclass
class ClipTiming:
    """Wall-clock cost of generating one clip."""

    id: str
    generation_seconds: float
    audio_seconds: float
    feature_seconds: float = 0.0
    batch_size: int = 1
    device: str = "cpu"

    @property
    def rtf(self) -> float:
        return real_time_factor(self.generation_seconds, self.audio_seconds)


def real_time_factor(generation_seconds: float, audio_seconds: float) -> float:
    """Seconds of compute per second of audio: < 1 is faster than real time."""
    if audio_seconds <= 0:
        raise ValueError(f"audio duration must be positive, got {audio_seconds}")
    return generation_seconds / audio_seconds


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """`with stopwatch() as t: ...` then `t["seconds"]` holds the elapsed wall-clock time."""
    result = {"seconds": float("nan")}
    start = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - start


def summarise_timings(timings: list[ClipTiming]) -> dict[str, float | str]:
    """Mean seconds per clip, mean per-clip RTF and feature time, with the batch sizes and devices seen."""
    if not timings:
        raise ValueError("no timings to summarise")
    return {
        "seconds_per_clip": float(np.mean([t.generation_seconds for t in timings])),
        "rtf": float(np.mean([t.rtf for t in timings])),
        "feature_seconds_per_clip": float(np.mean([t.feature_seconds for t in timings])),
        "batch_size": ",".join(sorted({str(t.batch_size) for t in timings})),
        "device": ",".join(sorted({t.device for t in timings})),
    }


def read_timings(path: str | Path) -> dict[str, ClipTiming]:
    """Per-clip timings from a `timings.jsonl` file, keyed by clip id."""
    path = Path(path)
    timings = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            timing = ClipTiming(**json.loads(line))
            timing.rtf  # noqa: B018 - validates the durations
        except (ValueError, TypeError) as err:
            raise UserError(f"{path}:{number}: bad timing record ({err})") from err
        timings[timing.id] = timing
    return timings
