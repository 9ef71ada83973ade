"""Autoregressive sampling of codec codes from the MusicGen decoder, with classifier-free guidance.

Written out (rather than calling `generate`) so that the null rows, continuation prompts and seeding are
explicit: guidance stacks conditional rows over null rows and mixes logits as audiocraft does,
`uncond + g * (cond - uncond)`; a prompt (the previous window's codes) is teacher-forced in one prefill pass.
Hooks on the decoder layers see the same calls as under `generate`: a prefill, then one step at a time.
"""

from __future__ import annotations

import torch

from toolkit.backbone.cache_kwarg import cache_kwargs
from toolkit.backbone.delay import undelay_codes
from toolkit.backbone.text import stack_with_null


def _known_steps(prompt: torch.Tensor | None, batch: int, num_codebooks: int, num_frames: int, pad_id: int):
    """Delayed grid `(B,K,S)`: pad where a codebook has no frame, prompt codes where given, -1 to sample."""
    steps = num_frames + num_codebooks - 1
    grid = torch.full((batch, num_codebooks, steps), -1, dtype=torch.long)
    for k in range(num_codebooks):
        grid[:, k, :k] = pad_id
        grid[:, k, k + num_frames :] = pad_id
        if prompt is not None:
            grid[:, k, k : k + prompt.shape[-1]] = prompt[:, k]
    return grid


def _pick(logits: torch.Tensor, temperature: float, top_k: int, generator: torch.Generator | None):
    """Sample (or take the argmax when temperature is 0) from `(N, V)` logits."""
    if temperature <= 0:
        return logits.argmax(-1)
    logits = logits / temperature
    if 0 < top_k < logits.shape[-1]:
        floor = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < floor, float("-inf"))
    probs = torch.softmax(logits.float(), dim=-1)
    return torch.multinomial(probs.cpu(), 1, generator=generator)[:, 0].to(logits.device)


@torch.no_grad()
def sample_codes(
    model,
    memory: torch.Tensor,
    mask: torch.Tensor,
    num_frames: int,
    *,
    prompt_codes: torch.Tensor | None = None,
    guidance: float = 3.0,
    temperature: float = 1.0,
    top_k: int = 250,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Sample codes `(B,K,num_frames)`; the first frames equal `prompt_codes` when given."""
    decoder = model.decoder
    num_codebooks = decoder.num_codebooks
    pad_id = model.config.decoder.pad_token_id
    start_id = model.config.decoder.decoder_start_token_id
    batch = memory.shape[0]
    prompt_len = 0 if prompt_codes is None else prompt_codes.shape[-1]
    if prompt_len > num_frames:
        raise ValueError(f"prompt has {prompt_len} frames, more than the {num_frames} requested")
    guided = guidance is not None and guidance != 1.0
    if guided:
        memory, mask = stack_with_null(memory, mask)
    rows = memory.shape[0]
    grid = _known_steps(prompt_codes, batch, num_codebooks, num_frames, pad_id).to(memory.device)
    start = torch.full((batch, num_codebooks, 1), start_id, dtype=torch.long, device=memory.device)
    feed = torch.cat([start, grid[:, :, :prompt_len]], dim=-1)
    cache = None
    steps = range(prompt_len, grid.shape[-1])
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="sampling", unit="step", leave=False)
    for step in steps:
        inputs = feed.repeat(rows // batch, 1, 1).reshape(rows * num_codebooks, -1)
        out = decoder(
            input_ids=inputs,
            encoder_hidden_states=memory,
            encoder_attention_mask=mask,
            use_cache=True,
            **cache_kwargs(decoder, cache),
        )
        cache = out.past_key_values
        logits = out.logits.reshape(rows, num_codebooks, -1, out.logits.shape[-1])[:, :, -1]
        if guided:
            cond, uncond = logits[:batch], logits[batch:]
            logits = uncond + guidance * (cond - uncond)
        drawn = _pick(logits.reshape(batch * num_codebooks, -1), temperature, top_k, generator)
        column = grid[:, :, step]
        column = torch.where(column == -1, drawn.reshape(batch, num_codebooks), column)
        grid[:, :, step] = column
        feed = column[:, :, None]
    return undelay_codes(grid)
