"""The optimisation loop: only adapters learn, resume is exact, divergence stops clearly, stages switch."""

from __future__ import annotations

import copy

import pytest
import torch

from toolkit.training.loop import TrainingDiverged

from .helpers import make_loop


def _adapter_copy(loop):
    return {k: v.detach().clone() for k, v in loop.attached.adapter_state_dict().items()}


def test_only_adapters_receive_gradients_and_the_backbone_is_unchanged(backbone):
    frozen = {k: v.clone() for k, v in backbone.model.state_dict().items()}
    loop = make_loop(backbone)
    adapters = {id(p) for p in loop.params}
    start = _adapter_copy(loop)
    for step in range(3):
        loop.train_step(step)
        touched = [n for n, p in backbone.model.named_parameters() if p.grad is not None and id(p) not in adapters]
        assert touched == []
    assert all(p.grad is not None for p in loop.params)
    after = _adapter_copy(loop)
    assert all(not torch.equal(start[k], after[k]) for k in start if "lora_A" not in k)
    for name, value in backbone.model.state_dict().items():
        if "lora_" not in name:
            assert torch.equal(value, frozen[name.replace(".base_layer", "")]), name
    assert not backbone.model.training  # the frozen backbone never leaves eval mode


def test_resume_continues_exactly(backbone, tiny_model, tmp_path):
    from toolkit.backbone.frozen import Backbone
    from toolkit.training.checkpoint import load_checkpoint, save_checkpoint

    steps = 6
    whole = make_loop(backbone, steps=steps)
    losses_whole = [whole.train_step(s)["loss"] for s in range(steps)]

    fresh = lambda: Backbone(copy.deepcopy(tiny_model[0]), tiny_model[1])  # noqa: E731
    first = make_loop(fresh(), steps=steps)
    losses = [first.train_step(s)["loss"] for s in range(steps // 2)]
    save_checkpoint(tmp_path / "ckpt", first.attached, {"name": "t"}, steps // 2, first.optimizer, first.scheduler)
    first.attached.detach()

    checkpoint = load_checkpoint(tmp_path / "ckpt")
    second = make_loop(fresh(), steps=steps, seed=0)
    checkpoint.load_into(second.attached)
    second.load_state_dict(checkpoint.trainer_state())
    assert checkpoint.step == steps // 2 and second.scheduler.last_epoch == steps // 2
    losses += [second.train_step(s)["loss"] for s in range(checkpoint.step, steps)]

    assert losses == losses_whole
    resumed, uninterrupted = _adapter_copy(second), _adapter_copy(whole)
    assert all(torch.equal(resumed[k], uninterrupted[k]) for k in uninterrupted)
    for a, b in zip(whole.params, second.params, strict=True):
        assert torch.equal(whole.optimizer.state[a]["exp_avg"], second.optimizer.state[b]["exp_avg"])


def test_a_fresh_loop_without_resume_differs(backbone, tiny_model):
    """Guards the test above: restarting from step N without the optimiser state does not match."""
    from toolkit.backbone.frozen import Backbone

    whole = make_loop(backbone, steps=4)
    for s in range(4):
        whole.train_step(s)
    other = make_loop(Backbone(copy.deepcopy(tiny_model[0]), tiny_model[1]), steps=4)
    for s in range(2, 4):
        other.train_step(s)
    a, b = _adapter_copy(whole), _adapter_copy(other)
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_nan_loss_stops_with_a_clear_message_and_no_update(backbone, monkeypatch):
    loop = make_loop(backbone)
    loop.train_step(0)
    before = _adapter_copy(loop)
    monkeypatch.setattr(loop, "losses", lambda batch: {"head": torch.tensor(float("nan"), requires_grad=True)})
    with pytest.raises(TrainingDiverged, match=r"loss is nan at step 2 \(stage 'all'.*train.lr"):
        loop.train_step(1)
    after = _adapter_copy(loop)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_inf_gradient_stops_too(backbone):
    loop = make_loop(backbone, grad_clip=1.0)
    with torch.no_grad():
        loop.attached.conditioners["rhythm"].encoder[0].weight.fill_(float("inf"))
    with pytest.raises(TrainingDiverged, match="at step 1"):
        loop.train_step(0)


def test_stages_switch_the_trainable_set_at_the_boundary(backbone):
    from omegaconf import OmegaConf

    stages = [OmegaConf.create({"name": "semantic", "conditioners": ["semantic", "lora"], "fraction": 0.5}),
              OmegaConf.create({"name": "rhythm", "conditioners": ["rhythm"], "fraction": 0.5})]
    loop = make_loop(backbone, stages=stages, steps=4)
    rhythm = loop.attached.conditioners["rhythm"]
    semantic = loop.attached.conditioners["semantic"]

    def snap(module):
        return [p.detach().clone() for p in module.parameters()]

    moved = lambda a, b: any(not torch.equal(x, y) for x, y in zip(a, b, strict=True))  # noqa: E731
    r0, s0 = snap(rhythm), snap(semantic)
    for step in range(2):
        loop.train_step(step)
        assert loop.stage.name == "semantic"
    r1, s1 = snap(rhythm), snap(semantic)
    assert not moved(r0, r1) and moved(s0, s1)
    loop.train_step(2)
    assert loop.stage.name == "rhythm"
    r2, s2 = snap(rhythm), snap(semantic)
    assert moved(r1, r2) and not moved(s1, s2)
    # each stage restarts its warmup: the first step of stage two runs at the warmup's first lr
    assert loop.lr_factor(2) == loop.lr_factor(0) == 1.0


def test_validation_loss_is_deterministic_and_dropout_free(backbone):
    loop = make_loop(backbone)
    assert loop.validate() == loop.validate()
    batch = loop.val_set.validation_batches(2, 1)[0]
    assert batch.prompts == ["prompt 0", "prompt 1"] and batch.features.present.all()
