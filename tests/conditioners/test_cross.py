"""The extra cross-attention acts once its gate opens; rows without video and detaching restore the model."""

from __future__ import annotations

import torch

from toolkit.features.batch import drop_video
from toolkit.model.attach import attach

from .conftest import CLIP_DIM, FPS, logits


def test_open_gate_changes_outputs_and_detach_restores_them(backbone, batch):
    reference = logits(backbone, batch)
    attached = attach(backbone, [{"name": "semantic", "feature_dim": CLIP_DIM, "layers": [1]}], fps=FPS)
    semantic = attached.conditioners["semantic"]
    assert len(semantic.cross) == 1 and semantic.cross[0].gate.item() == 0.0
    with torch.no_grad():
        semantic.cross[0].gate.fill_(0.7)
        opened = logits(backbone, batch, attached)
    assert not torch.allclose(opened, reference, atol=1e-4)
    # a video-dependent change: other clip features give other logits
    other = {
        **batch,
        "features": {**batch["features"], "clip": {"global": batch["features"]["clip"]["global"].flip(0)}},
    }
    with torch.no_grad():
        assert not torch.allclose(logits(backbone, other, attached), opened, atol=1e-4)
        # rows without video are exactly the backbone's, even with the gate open
        dropped = {**batch, "features": drop_video(batch["features"], torch.tensor([False, True]))}
        out = logits(backbone, dropped, attached).reshape(2, -1, *reference.shape[1:])
    ref = reference.reshape(2, -1, *reference.shape[1:])
    assert torch.equal(out[1], ref[1]) and not torch.allclose(out[0], ref[0], atol=1e-4)
    attached.detach()
    assert not semantic.attached
    assert torch.equal(logits(backbone, batch), reference)


def test_copied_cross_attention_reads_video_tokens_like_text(backbone, batch):
    """With `init="copy"` the extra attention equals the layer's own text cross-attention."""
    attached = attach(backbone, [{"name": "semantic", "feature_dim": CLIP_DIM, "layers": [0]}], fps=FPS)
    extra = attached.conditioners["semantic"].cross[0]
    layer = backbone.decoder_layers[0]
    hidden = torch.randn(2, 5, backbone.hidden_size)
    memory = torch.randn(2, 3, backbone.memory_size)
    with torch.no_grad():
        own = layer.encoder_attn(layer.encoder_attn_layer_norm(hidden), key_value_states=memory)[0]
        mine = extra.attend(hidden, memory, torch.ones(2, 3))
    torch.testing.assert_close(mine, own, rtol=1e-5, atol=1e-6)


def test_forward_without_features_is_refused_and_leaves_no_state(backbone, batch):
    from toolkit.errors import UserError

    attached = attach(backbone, [{"name": "rhythm", "block_size": 2}], fps=FPS)
    try:
        attached(batch["codes"], batch["memory"], batch["mask"], None)
    except UserError as err:
        assert "rhythm" in str(err)
    else:
        raise AssertionError("expected a UserError")
    # outside `conditioned`, hooks add nothing (no stale batch)
    assert torch.equal(
        logits(backbone, batch),
        backbone.decoder_forward(batch["codes"], batch["memory"], batch["mask"]).logits,
    )
