"""The decoder's own head: codec tokens one step at a time, with MusicGen's delay pattern and LM heads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from toolkit.backbone.sampling import sample_codes
from toolkit.heads.base import Head, MusicCrop
from toolkit.heads.registry import register_head


@register_head("tokens")
class TokenHead(Head):
    """The default head: codec tokens sampled one step at a time, trained by the decoder's cross-entropy.

    Top-k and temperature sampling with classifier-free guidance; no parameters of its own."""

    def loss(self, model: Any, crop: MusicCrop) -> torch.Tensor:
        return self.backbone.decoder_forward(crop.codes, crop.memory, crop.mask).loss

    def sample(self, model: Any, memory: torch.Tensor, mask: torch.Tensor, frames: int, *,
               guidance: float | None, generator: torch.Generator, prompt: Mapping[str, torch.Tensor] | None,
               progress: bool, temperature: float = 1.0, top_k: int = 250, **options: Any) -> dict[str, torch.Tensor]:
        codes = sample_codes(
            self.backbone.model, memory, mask, frames, prompt_codes=None if prompt is None else prompt["codes"],
            guidance=guidance, temperature=temperature, top_k=top_k, generator=generator, progress=progress,
        )
        return {"codes": codes}
