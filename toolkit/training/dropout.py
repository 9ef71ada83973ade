"""Condition dropout for classifier-free guidance: some rows train without their prompt (the null text), some
without their video (mask all zero, which every conditioner treats as "no video"). The two are drawn
independently, so the model also sees rows with neither — the null rows guidance samples against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from toolkit.features.batch import drop_video


def drop_rows(batch: int, rate: float, generator: torch.Generator) -> torch.Tensor:
    """A boolean `(batch,)` mask, each row true with probability `rate`."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"dropout rate must be in [0, 1], got {rate}")
    return torch.rand(batch, generator=generator) < rate


def drop_text(prompts: Sequence[str], drop: torch.Tensor) -> list[str]:
    """Prompts with the dropped rows emptied (an empty prompt encodes to the null text)."""
    return ["" if d else p for p, d in zip(prompts, drop.tolist(), strict=True)]


def drop_conditions(
    prompts: Sequence[str],
    features: Mapping[str, Any] | None,
    text_rate: float,
    video_rate: float,
    generator: torch.Generator,
) -> tuple[list[str], Mapping[str, Any] | None]:
    """Apply text and video dropout to one batch (features `None` when no conditioner reads video)."""
    text = drop_rows(len(prompts), text_rate, generator)
    video = drop_rows(len(prompts), video_rate, generator)
    prompts = drop_text(prompts, text)
    if features:
        features = drop_video(features, video)
    return prompts, features
