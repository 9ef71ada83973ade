"""The `data` section: where clips come from and how they are split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from toolkit.data.world.storyboard import StoryboardOptions
from toolkit.errors import UserError
from toolkit.utils.ranges import Range


@dataclass
class WorldConfig:
    """The synthetic micro world built when `data.root` is unset."""

    RANGES: ClassVar[dict[str, Range]] = {"clips": Range(1, 100000), "seconds": Range(2, 600),
                                          "storyboards": Range(0, 1), "offbeat_cuts": Range(0, 1)}

    clips: int = 300
    seconds: float = 8.0  # three storyboard shots of at least 2 s each fit
    seed: int = 0
    storyboards: float = StoryboardOptions.storyboards  # share of clips with two or three shots of different styles
    offbeat_cuts: float = StoryboardOptions.offbeat_cuts  # share of cuts that fall between beats


@dataclass
class SplitConfig:
    """Fractions of clips held out for validation and test; the rest train. Assignment hashes the stem."""

    RANGES: ClassVar[dict[str, Range]] = {"val": Range(0, 1, high_inclusive=False),
                                          "test": Range(0, 1, high_inclusive=False)}

    val: float = 0.1
    test: float = 0.1
    seed: int = 0

    @classmethod
    def check_values(cls, values: Mapping[str, Any], where: str) -> None:
        """Rules between fields (after `RANGES`): something must be left to train on."""
        if values["val"] + values["test"] >= 1:
            raise UserError(f"{where}: val + test must be below 1 (nothing left to train on), "
                            f"got {values['val']} + {values['test']}")


@dataclass
class DataConfig:
    """A dataset folder (videos + music + optional prompts.jsonl), or the micro world when `root` is null."""

    RANGES: ClassVar[dict[str, Range]] = {"sample_rate": Range(4000, 192000)}

    root: str | None = None
    world: WorldConfig = field(default_factory=WorldConfig)
    splits: SplitConfig = field(default_factory=SplitConfig)
    prompts: str = "prompts.jsonl"
    sample_rate: int = 32000
