"""A tiny backbone with the plan-and-refine head (and LoRA on the planner) attached, and random batches."""

from __future__ import annotations

import torch


def attach_head(backbone, patch_size: int = 4, lora: bool = True, seed: int = 0, **kwargs):
    from toolkit.model.attach import attach

    torch.manual_seed(seed)
    specs = [{"name": "lora", "rank": 2}] if lora else []
    head = {"name": "plan_refine", "patch_size": patch_size, "plan_dim": 16, "dit_width": 32, "rite_heads": 2,
            **kwargs}
    return attach(backbone, specs, head=head)


def perturb(attached, scale: float = 0.3, seed: int = 0) -> None:
    """Move every adapter weight off its initialisation, as training would."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in attached.trainable_parameters():
            p.add_(torch.randn(p.shape, generator=gen) * scale)


def random_batch(backbone, batch: int = 2, frames: int = 16, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, backbone.codebook_size, (batch, backbone.num_codebooks, frames), generator=gen)
    latents = torch.randn(batch, backbone.latent_dim, frames, generator=gen)
    memory, mask = backbone.encode_text(["a", "b c"][:batch])
    return codes, latents, memory, mask
