"""The `features` section: which cached features to extract, and how (defaults suit the micro world)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from toolkit.utils.ranges import Range


def default_extractors() -> dict[str, dict[str, Any] | None]:
    """The five built-in extractors with the kwargs every cached feature so far was computed with (they are the
    cache key: changing one recomputes that feature)."""
    return {
        # `model`: a hub id, a local `save_pretrained` directory, or "tiny-random" (offline, no semantics: the
        # micro world's frames differ in low-level colour and motion only); image_size is tiny-random's input.
        "clip": {"model": "tiny-random", "image_size": 224, "batch_size": 32},
        "interframe": {},  # reads the `clip` entry's model (its kwargs are copied in)
        "rhythm": {"frame_rate": 50.0, "n_mels": 24, "tempogram_bins": 64},  # 50 Hz: the codec's latent rate
        "colour": {"bins": 8},
        "shots": {"threshold": 0.4, "bins": 8},
    }


@dataclass
class FeaturesConfig:
    """Extractor settings. `extractors` maps an entry name to that extractor's kwargs (`type:` picks the
    registered class when the entry is named otherwise); YAML or an override adds an entry, changes a kwarg
    (`features.extractors.clip.model=...`) or switches one off with null (`features.extractors.shots=null`).
    Each extractor checks its own kwargs. Frames are read at `fps` with the longest side ≤ `max_side`; music
    is read at `data.sample_rate`."""

    RANGES: ClassVar[dict[str, Range]] = {
        "fps": Range(0, 120, low_inclusive=False),
        "max_side": Range(16, 4096),
    }

    extractors: dict[str, dict[str, Any] | None] = field(default_factory=default_extractors)
    fps: float = 8.0
    max_side: int = 224
    cache_dir: str | None = None  # null: the user cache (`$V2M_CACHE_DIR`/features)
