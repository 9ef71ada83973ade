"""The planner: the frozen decoder (with whatever adapters are attached: LoRA, semantic and rhythm
conditioners, the text it cross-attends to) reading the token history one patch behind.

Its input is a "start patch" of P start tokens followed by the codes shifted right by P frames, all K codebooks
of a frame summed at one position (no delay pattern: nothing is predicted token by token here). Position p
holds frame p - P, so its hidden state has seen frames up to p - P only: the P positions of patch n see the
codes of patches 0 … n-1 and nothing of patch n. So one computation serves training (one teacher-forced
pass) and generation (one pass per patch, with the KV cache). Position p is also time p / frame_rate, the
alignment that in-attention and cross-attention conditioners assume.
"""

from __future__ import annotations

from typing import Any

import torch


def start_patch(backbone: Any, batch: int, patch: int, device: torch.device | None = None) -> torch.Tensor:
    """`(batch, K, patch)` of the decoder's start token: what the first patch's plan is read from."""
    start = backbone.start_token_id
    return torch.full((batch, backbone.num_codebooks, patch), start, dtype=torch.long, device=device)


def shifted_input(backbone: Any, codes: torch.Tensor, patch: int) -> torch.Tensor:
    """Teacher-forced planner input for frame-aligned codes `(B, K, T)`: the start patch, then `codes`
    without their last `patch` frames (`(B, K, T)` again)."""
    head = start_patch(backbone, codes.shape[0], patch, codes.device)
    return torch.cat([head, codes[:, :, : codes.shape[-1] - patch]], dim=-1)[:, :, : codes.shape[-1]]


def planner_hidden(
    backbone: Any,
    inputs: torch.Tensor,
    memory: torch.Tensor,
    mask: torch.Tensor,
    cache: Any = None,
    use_cache: bool = False,
) -> tuple[torch.Tensor, Any]:
    """The decoder's last hidden states `(R, S, H)` for inputs `(B, K, S)` (repeated to the `R` rows of the
    text memory, e.g. conditional rows over null rows), continuing `cache` when given. Returns the states and
    the cache. The decoder body is called without its LM heads: the planner needs states, not logits."""
    rows, (batch, books, steps) = memory.shape[0], inputs.shape
    ids = inputs.repeat(rows // batch, 1, 1).reshape(rows * books, steps)
    out = backbone.decoder_hidden(ids, memory, mask, cache=cache, use_cache=use_cache or cache is not None)
    return out.last_hidden_state, out.past_key_values
