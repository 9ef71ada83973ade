"""Only adapters learn: backbone gradients stay None and its weights unchanged while adapters move."""

from __future__ import annotations

import pytest
import torch

from toolkit.model.attach import attach

from .conftest import CLIP_DIM, FPS, logits

SPECS = [
    {"name": "semantic", "feature_dim": CLIP_DIM},
    {"name": "rhythm", "block_size": 2},
    {"name": "lora", "rank": 4},
]
# VidMusician's recipe: video tokens through the (LoRA-tuned) text encoder, rhythm in-attention, decoder LoRA
PAPER = [
    {"name": "semantic", "route": "text_encoder", "feature_dim": CLIP_DIM},
    {"name": "rhythm", "block_size": 2},
    {"name": "lora", "rank": 4, "text_encoder": True},
]


@pytest.mark.parametrize("specs", [SPECS, PAPER], ids=["decoupled", "paper"])
def test_only_adapters_receive_gradients_and_backbone_never_changes(backbone, batch, specs):
    torch.manual_seed(0)
    before = {k: v.clone() for k, v in backbone.model.state_dict().items()}
    reference = logits(backbone, batch)
    attached = attach(backbone, specs, fps=FPS).train()
    adapters = attached.trainable_parameters()
    start = [p.detach().clone() for p in adapters]
    adapter_ids = {id(p) for p in adapters}
    optimiser = torch.optim.AdamW(adapters, lr=1e-2)
    for _ in range(3):
        loss = attached(batch["codes"], batch["memory"], batch["mask"], batch["features"]).loss
        optimiser.zero_grad()
        loss.backward()
        params = backbone.model.named_parameters()
        backbone_grads = [n for n, p in params if id(p) not in adapter_ids and p.grad is not None]
        assert backbone_grads == []
        assert all(p.grad is not None for p in adapters)
        optimiser.step()
    attached.eval()
    for name, value in backbone.model.state_dict().items():
        if "lora_" not in name:
            assert torch.equal(value, before[name.replace(".base_layer", "")]), name
    assert all(not torch.equal(p, s) for p, s in zip(adapters, start, strict=True))
    with torch.no_grad():
        assert not torch.allclose(logits(backbone, batch, attached), reference)
    attached.detach()
    assert torch.equal(logits(backbone, batch), reference)


def test_stage_selection_picks_each_conditioners_parameters(backbone):
    attached = attach(backbone, SPECS, fps=FPS)
    semantic = {id(p) for p in attached.trainable_parameters(["semantic"])}
    rhythm = {id(p) for p in attached.trainable_parameters(["rhythm"])}
    everything = {id(p) for p in attached.trainable_parameters()}
    assert semantic and rhythm and not semantic & rhythm
    assert semantic | rhythm < everything
    assert sum(p.numel() for p in attached.trainable_parameters()) == sum(attached.num_trainable().values())


def test_adapter_state_dict_round_trips_into_identical_outputs(backbone, batch, tiny_model):
    import copy

    from toolkit.backbone.frozen import Backbone

    from .conftest import perturb

    attached = attach(backbone, SPECS, fps=FPS)
    perturb(attached, scale=0.3)
    with torch.no_grad():
        expected = logits(backbone, batch, attached)
    state = {k: v.clone() for k, v in attached.adapter_state_dict().items()}
    assert any(k.startswith("lora.base_model.model.decoder.") for k in state)
    fresh = Backbone(copy.deepcopy(tiny_model[0]), tiny_model[1])
    reloaded = attach(fresh, SPECS, fps=FPS)
    reloaded.load_adapter_state_dict(state)
    with torch.no_grad():
        assert torch.equal(logits(fresh, batch, reloaded), expected)
