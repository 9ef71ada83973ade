"""The `train` section: adapter-only optimisation, its schedule, stages, dropout for guidance, checkpoints.

The lead composes it into the experiment schema as

    train: TrainConfig = field(default_factory=TrainConfig)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from toolkit.errors import UserError
from toolkit.utils.ranges import Range, check_range

BETA = Range(0, 1, high_inclusive=False)  # AdamW's moment decay rates


@dataclass
class StageConfig:
    """One training stage: the parts it trains (attached names such as `semantic`, `rhythm`, `lora`, the head's
    name such as `plan_refine`, or `<entry>.<group>` for a conditioner's parameter group; null: all) and its
    share of `train.steps`. VidMusician trains semantics first, then rhythm."""

    name: str = "all"
    conditioners: list[str] | None = None
    fraction: float = 1.0


@dataclass
class TrainConfig:
    """AdamW on adapter parameters only, linear warmup then cosine decay (restarted in each stage), gradient
    clipping, text and video-condition dropout for classifier-free guidance, periodic validation loss and
    atomic checkpoints under `output_dir/<run>/checkpoint`. An empty `stages` list trains everything.

    `steps` is at least 1: a run of no steps trains nothing (the bare backbone is an experiment without
    conditioners, which a sweep trial evaluates untrained); stage rules live in `toolkit.config.stages`."""

    RANGES: ClassVar[dict[str, Range]] = {
        "steps": Range(1),
        "batch_size": Range(1),
        "lr": Range(0, low_inclusive=False),
        "weight_decay": Range(0),
        "warmup_steps": Range(0),
        "min_lr_ratio": Range(0, 1),
        "grad_clip": Range(0),
        "crop_seconds": Range(0, low_inclusive=False),
        "paraphrase_prob": Range(0, 1),
        "text_dropout": Range(0, 1),
        "video_dropout": Range(0, 1),
        "val_every": Range(0),
        "val_batches": Range(1),
        "checkpoint_every": Range(0),
        "threads": Range(1),  # null: torch's default
    }

    steps: int = 200
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.01
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    warmup_steps: int = 20
    min_lr_ratio: float = 0.1  # the cosine decays to lr · min_lr_ratio
    grad_clip: float = 1.0  # max global gradient norm; 0 switches clipping off
    crop_seconds: float = 3.0  # random crop of each clip (shorter clips: the shortest clip's length)
    paraphrase_prob: float = 0.5  # chance of training on a random paraphrase instead of the prompt
    text_dropout: float = 0.1  # chance a row's prompt is dropped (the null text of guidance)
    video_dropout: float = 0.1  # chance a row's video is dropped (the null video of guidance)
    stages: list[StageConfig] = field(default_factory=list)
    # weight of each auxiliary loss by its logged name (`<conditioner entry>.<loss>`; "head" the head's); default 1
    loss_weights: dict[str, float] = field(default_factory=dict)
    val_every: int = 50  # steps between validation losses (0: only at the end)
    val_batches: int = 4
    checkpoint_every: int = 100  # steps between checkpoints (the last step always writes one)
    output_dir: str = "runs"
    threads: int | None = 1  # torch intra-op threads (null: torch's default)
    progress: bool = True

    @classmethod
    def check_values(cls, values: Mapping[str, Any], where: str) -> None:
        """Rules `RANGES` cannot state: `betas` is a pair of decay rates."""
        betas = list(values["betas"])
        if len(betas) != 2:
            raise UserError(f"{where}.betas: expected two values [beta1, beta2], got {betas}")
        for i, beta in enumerate(betas):
            check_range(f"{where}.betas[{i}]", beta, BETA)
        for name, weight in dict(values.get("loss_weights") or {}).items():
            if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
                raise UserError(f"{where}.loss_weights.{name}: must be a number ≥ 0, got {weight!r}")
