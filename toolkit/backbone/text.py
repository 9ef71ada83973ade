"""Text conditioning: prompts → the memory MusicGen's decoder cross-attends to, and its classifier-free null.

The memory is in the decoder's cross-attention space (after `enc_to_dec_proj` when the text encoder is
narrower than the decoder) and zeroed at padding, exactly as `MusicgenForConditionalGeneration.forward` does.
The null ("unconditional") memory is all zeros with an all-zero mask, as transformers' MusicGen builds it for
classifier-free guidance; an empty prompt encodes to that null.
"""

from __future__ import annotations

import torch


def memory_size(model) -> int:
    """Width of the text memory the decoder attends to."""
    if getattr(model, "enc_to_dec_proj", None) is not None:
        return model.enc_to_dec_proj.out_features
    return model.config.decoder.cross_attention_hidden_size or model.config.text_encoder.hidden_size


@torch.no_grad()
def encode_text(
    model, tokenizer, prompts: list[str], max_length: int = 128
) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompts → `(memory (B,L,D), mask (B,L) long)`; empty prompts get the null encoding."""
    if isinstance(prompts, str):
        raise TypeError("prompts must be a list of strings")
    texts = [p if p else " " for p in prompts]
    limit = min(max_length, getattr(tokenizer, "model_max_length", max_length) or max_length)
    tokens = tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")
    tokens = {k: v.to(model.device) for k, v in tokens.items() if k in ("input_ids", "attention_mask")}
    hidden = model.text_encoder(**tokens).last_hidden_state
    if getattr(model, "enc_to_dec_proj", None) is not None:
        hidden = model.enc_to_dec_proj(hidden)
    mask = tokens["attention_mask"].long()
    empty = torch.tensor([not p for p in prompts], device=mask.device)
    mask = mask.masked_fill(empty[:, None], 0)
    return hidden * mask[..., None].to(hidden.dtype), mask


def null_text(model, batch: int, length: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """The unconditional memory: zeros, fully masked."""
    memory = torch.zeros(batch, length, memory_size(model), device=model.device, dtype=model.dtype)
    return memory, torch.zeros(batch, length, dtype=torch.long, device=model.device)


def stack_with_null(memory: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Conditional rows followed by as many null rows (the layout classifier-free guidance batches use)."""
    return torch.cat([memory, torch.zeros_like(memory)]), torch.cat([mask, torch.zeros_like(mask)])
