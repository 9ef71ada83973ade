"""Feature batches and helpers for conditioner tests (`tiny_model` and `backbone` come from tests/conftest.py)."""

from __future__ import annotations

import pytest
import torch

FPS = 50.0  # features in tests run at half the tiny codec's 100 Hz frame rate: two decoder steps per frame
CLIP_DIM = 12


@pytest.fixture
def batch(backbone):
    """Two clips of codes, prompts and features; the second clip's video is shorter (padded, masked)."""
    gen = torch.Generator().manual_seed(1)
    codes = torch.randint(0, backbone.codebook_size, (2, backbone.num_codebooks, 20), generator=gen)
    memory, mask = backbone.encode_text(["a calm piano ballad", "fast drums"])
    frames = 11
    distance = torch.rand(2, frames, generator=gen) * 0.5
    distance[:, 4] = 1.5  # a cut
    video_mask = torch.ones(2, frames)
    video_mask[1, 8:] = 0
    features = {
        "clip": {"global": torch.randn(2, frames, CLIP_DIM, generator=gen)},
        "interframe": {"distance": distance},
        "mask": video_mask,
    }
    return {"codes": codes, "memory": memory, "mask": mask, "features": features}


def perturb(module: torch.nn.Module, scale: float = 0.5, seed: int = 0) -> None:
    """Move every trainable parameter off its (zero/identity) initialisation, deterministically."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            if param.requires_grad:
                param.add_(torch.randn(param.shape, generator=gen) * scale)


def logits(backbone, batch, attached=None):
    if attached is None:
        return backbone.decoder_forward(batch["codes"], batch["memory"], batch["mask"]).logits
    return attached(batch["codes"], batch["memory"], batch["mask"], batch["features"]).logits
