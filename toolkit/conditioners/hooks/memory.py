"""Extra tokens appended to the text memory the decoder's own cross-attention reads (every layer).

A forward pre-hook on the decoder stack rewrites its `encoder_hidden_states` / `encoder_attention_mask`
kwargs. Not bit-identical in general: appended tokens take softmax mass even when they carry little (a
zero-projected key still scores 0, not -inf, so it dilutes the attention over the real text tokens)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

# extra() → (tokens (B, L, memory_size), mask (B, L)) or None (nothing to append this pass).
ExtraFn = Callable[[], "tuple[torch.Tensor, torch.Tensor] | None"]


def extend_memory(decoder: nn.Module, extra: ExtraFn) -> RemovableHandle:
    """Append `extra()`'s tokens after the text memory on every call of `decoder` (`Backbone.decoder_stack`);
    returns the handle."""

    def pre_hook(_module: nn.Module, args: tuple, kwargs: dict):
        added = extra()
        if added is None:
            return None
        tokens, mask = added
        memory = kwargs.get("encoder_hidden_states")
        text_mask = kwargs.get("encoder_attention_mask")
        if memory is None:
            memory, text_mask = tokens[:, :0], mask[:, :0]
        if memory.shape[0] != tokens.shape[0]:
            raise ValueError(
                f"video memory has {tokens.shape[0]} rows but the text memory has {memory.shape[0]}"
            )
        if text_mask is None:
            text_mask = torch.ones(memory.shape[:2], dtype=mask.dtype, device=memory.device)
        kwargs = {
            **kwargs,
            "encoder_hidden_states": torch.cat([memory, tokens.to(memory.dtype)], dim=1),
            "encoder_attention_mask": torch.cat([text_mask, mask.to(text_mask.dtype)], dim=1),
        }
        return args, kwargs

    return decoder.register_forward_pre_hook(pre_hook, with_kwargs=True)
