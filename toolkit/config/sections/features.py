"""The `features` section: which cached features to extract, and how (defaults suit the micro world)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FeaturesConfig:
    """Extractor settings. Frames are read at `fps` with the longest side ≤ `max_side`; music is read at
    `data.sample_rate`. `clip_model` is a hub id, a local `save_pretrained` directory, or "tiny-random"
    (offline, no semantics: the micro world's frames differ in low-level colour and motion only)."""

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
