"""The `features` section: which cached features to extract, and how (defaults suit the micro world)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from toolkit.config.ranges import Range


@dataclass
class FeaturesConfig:
    """Extractor settings. Frames are read at `fps` with the longest side ≤ `max_side`; music is read at
    `data.sample_rate`. `clip_model` is a hub id, a local `save_pretrained` directory, or "tiny-random"
    (offline, no semantics: the micro world's frames differ in low-level colour and motion only)."""

    RANGES: ClassVar[dict[str, Range]] = {
        "fps": Range(0, 120, low_inclusive=False),
        "max_side": Range(16, 4096),
        "clip_image_size": Range(16, 1024),
        "clip_batch_size": Range(1, 4096),
        "rhythm_frame_rate": Range(0, 1000, low_inclusive=False),
        "n_mels": Range(1, 512),
        "tempogram_bins": Range(1, 2048),
        "colour_bins": Range(1, 32),  # a joint RGB histogram: bins³ values per frame
        "shot_threshold": Range(0, 1, low_inclusive=False),  # total-variation distance between histograms
    }

    extractors: list[str] = field(default_factory=lambda: ["clip", "interframe", "rhythm", "colour", "shots"])
    fps: float = 8.0
    max_side: int = 224
    clip_model: str = "tiny-random"
    clip_image_size: int = 224  # input size of the tiny-random model; real models use their own processor's
    clip_batch_size: int = 32
    rhythm_frame_rate: float = 50.0  # Hz; matches the codec's latent rate so targets align with tokens
    n_mels: int = 24
    tempogram_bins: int = 64
    colour_bins: int = 8
    shot_threshold: float = 0.4
    cache_dir: str | None = None  # null: the user cache (`$V2M_CACHE_DIR`/features)
