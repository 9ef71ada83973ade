"""At initialisation every adapter leaves the frozen backbone's logits unchanged, bit for bit."""

from __future__ import annotations

import pytest
import torch

from toolkit.model.attach import attach

from .conftest import CLIP_DIM, FPS, logits

SPECS = {
    "semantic": {"name": "semantic", "feature_dim": CLIP_DIM},
    "semantic_some_layers": {
        "name": "semantic",
        "feature_dim": CLIP_DIM,
        "layers": [0, -1],
        "init": "random",
    },
    "rhythm": {"name": "rhythm", "block_size": 2},
    "rhythm_context": {"name": "rhythm", "block_size": 1, "coverage": 0.5, "context": 2, "width": 8},
    "lora": {"name": "lora", "rank": 4},
    "lora_self_only": {"name": "lora", "rank": 2, "attention": ["self"], "projections": ["q_proj", "v_proj"]},
    "lora_text_encoder": {"name": "lora", "rank": 4, "text_encoder": True, "text_encoder_rank": 2},
}


@pytest.mark.parametrize("which", sorted(SPECS))
def test_each_conditioner_alone_is_exact_at_init(backbone, batch, which):
    reference = logits(backbone, batch)
    attached = attach(backbone, [SPECS[which]], fps=FPS)
    assert sum(attached.num_trainable().values()) > 0
    with torch.no_grad():
        assert torch.equal(logits(backbone, batch, attached), reference)


def test_all_together_with_lora_is_exact_at_init(backbone, batch):
    reference = logits(backbone, batch)
    specs = [SPECS["semantic"], SPECS["rhythm"], SPECS["lora_text_encoder"]]
    attached = attach(backbone, specs, fps=FPS)
    assert sorted(attached.conditioners) == ["lora", "rhythm", "semantic"]
    with torch.no_grad():
        assert torch.equal(logits(backbone, batch, attached), reference)


def test_greedy_guided_sampling_is_unchanged_at_init(backbone, batch):
    """End to end through the KV-cached sampler with guidance (null rows carry no video)."""
    from toolkit.backbone.sampling import sample_codes
    from toolkit.features.batch import stack_with_null_video

    def sample():
        return sample_codes(backbone.model, batch["memory"], batch["mask"], 12, guidance=3.0, temperature=0)

    reference = sample()
    attached = attach(backbone, [SPECS["semantic"], SPECS["rhythm"], SPECS["lora"]], fps=FPS)
    with attached.conditioned(stack_with_null_video(batch["features"])):
        assert torch.equal(sample(), reference)


def test_text_encoder_route_is_not_exact_with_video_but_is_without(backbone, batch):
    """The paper's route appends video tokens to the text memory: documented as not bit-identical at init.
    Rows whose video is dropped append only masked tokens and keep the backbone's logits."""
    from toolkit.features.batch import drop_video

    reference = logits(backbone, batch)
    spec = {"name": "semantic", "route": "text_encoder", "feature_dim": CLIP_DIM}
    attached = attach(backbone, [spec], fps=FPS)
    with torch.no_grad():
        with_video = logits(backbone, batch, attached)
        dropped = {**batch, "features": drop_video(batch["features"], torch.tensor([True, True]))}
        without_video = logits(backbone, dropped, attached)
    assert not torch.allclose(with_video, reference)
    torch.testing.assert_close(without_video, reference, rtol=0, atol=1e-6)  # masked keys: rounding only
