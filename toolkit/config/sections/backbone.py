"""The `backbone` section: which frozen text-to-music model to use and how to sample from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from toolkit.errors import UserError
from toolkit.utils.ranges import Range


@dataclass
class BackboneConfig:
    """`name` is `micro` (built by the toolkit, cached), a preset (`musicgen-small`, `musicgen-medium`), a hub
    id (`facebook/musicgen-small`) or a local directory saved by `save_pretrained` with its tokenizer.
    Sampling follows MusicGen's defaults (top-k 250, temperature 1, guidance 3). Long videos are generated in
    windows of `window_seconds`, each continued from the last `overlap_seconds` of the previous one."""

    RANGES: ClassVar[dict[str, Range]] = {
        "guidance": Range(0),
        "temperature": Range(0, low_inclusive=False),
        "top_k": Range(0),
        "window_seconds": Range(0, low_inclusive=False),
        "overlap_seconds": Range(0),  # and below window_seconds (`check_values`)
    }

    name: str = "micro"
    guidance: float = 3.0
    temperature: float = 1.0
    top_k: int = 250
    window_seconds: float = 8.0
    overlap_seconds: float = 2.0
    micro_seed: int = 0  # seed of the micro backbone's pretraining (part of its cache key)
    device: str = "cpu"

    @classmethod
    def check_values(cls, values: Mapping[str, Any], where: str) -> None:
        """Rules between fields (after `RANGES`): each window continues from part of the previous one."""
        if values["overlap_seconds"] >= values["window_seconds"]:
            raise UserError(f"{where}.overlap_seconds: must be below {where}.window_seconds "
                            f"({values['window_seconds']}), got {values['overlap_seconds']}")
