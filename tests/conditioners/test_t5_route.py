"""The paper's route on a MusicGen whose text encoder is T5 (as in the hub checkpoints)."""

from __future__ import annotations

import torch

from toolkit.model.attach import attach

from .conftest import FPS, perturb


def tiny_t5_backbone():
    from transformers import T5Config

    from toolkit.backbone.frozen import Backbone
    from toolkit.backbone.micro import assemble, codec_config, decoder_config

    text = T5Config(vocab_size=64, d_model=16, d_kv=8, d_ff=32, num_layers=2, num_heads=2)
    model = assemble(
        text,
        codec_config(8000, (4, 4, 5), filters=4, latent=16, codebook_size=32, num_codebooks=2),
        decoder_config(32, 2, width=32, layers=2, heads=2, ffn=64, max_positions=64),
    )
    return Backbone(model, tokenizer=None, source="tiny-t5")


def test_video_tokens_go_through_t5_with_lora_and_train():
    torch.manual_seed(0)
    backbone = tiny_t5_backbone()
    specs = [
        {"name": "semantic", "route": "text_encoder", "feature_dim": 16},
        {"name": "lora", "rank": 2, "text_encoder": True, "attention": ["self"]},
    ]
    attached = attach(backbone, specs, fps=FPS)
    text_lora = [n for n in attached.conditioners["lora"].adapted_modules() if n.startswith("text_encoder.")]
    assert sorted(n.rsplit(".", 1)[1] for n in text_lora) == ["k", "k", "o", "o", "q", "q", "v", "v"]
    codes = torch.randint(0, 32, (2, 2, 10))
    memory, mask = backbone.null_text(2)
    features = {"clip": {"global": torch.randn(2, 6, 16)}}
    out = attached(codes, memory, mask, features)
    out.loss.backward()
    t5_grads = [
        p.grad
        for n, p in backbone.model.named_parameters()
        if n.startswith("text_encoder.") and "lora_B" in n
    ]
    assert t5_grads and all(g is not None and g.abs().sum() > 0 for g in t5_grads)
    mapping = attached.conditioners["semantic"].to_text
    assert torch.equal(mapping.weight, torch.eye(16)) and mapping.weight.grad.abs().sum() > 0
    # the video changes the music once the route is trained a little
    perturb(attached, scale=0.1)
    with torch.no_grad():
        a = attached(codes, memory, mask, features).logits
        b = attached(codes, memory, mask, {"clip": {"global": features["clip"]["global"].flip(0)}}).logits
    assert not torch.allclose(a, b)
