"""A tiny random MusicGen (4 decoder layers, text encoder narrower than the decoder) and feature batches."""

from __future__ import annotations

import pytest
import torch

FPS = 50.0  # features in tests run at half the tiny codec's 100 Hz frame rate: two decoder steps per frame
CLIP_DIM = 12


@pytest.fixture(scope="session")
def tiny_model():
    """`(model, tokenizer)`; the text encoder (width 24) feeds a 32-wide decoder through `enc_to_dec_proj`."""
    from transformers import AutoTokenizer, BertConfig

    from toolkit.backbone.micro import assemble, codec_config, decoder_config, minilm_dir

    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    text = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=24,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=48,
        max_position_embeddings=128,
    )
    model = assemble(
        text,
        codec_config(8000, (4, 4, 5), filters=4, latent=16, codebook_size=32, num_codebooks=2),
        decoder_config(32, 2, width=32, layers=4, heads=2, ffn=64, max_positions=128),
        seed=0,
    )
    return model, tokenizer


@pytest.fixture
def backbone(tiny_model):
    """A fresh frozen `Backbone` per test (hooks and LoRA from one test never leak into the next)."""
    import copy

    from toolkit.backbone.frozen import Backbone

    model, tokenizer = tiny_model
    return Backbone(copy.deepcopy(model), tokenizer, source="tiny")


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
