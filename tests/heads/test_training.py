"""Training plan-and-refine: the flow loss falls, only adapters learn, and a checkpoint reloads into identical
samples under a seed (and resumes exactly)."""

from __future__ import annotations

import copy

import torch

from toolkit.heads.plan_refine.sampling import sample_patches

from .helpers import attach_head


def _clips(backbone, n: int = 4, frames: int = 24, seed: int = 0):
    """Clips whose latents are a smooth per-clip pattern (learnable) and codes its quantisation."""
    from toolkit.training.data import Clip

    gen = torch.Generator().manual_seed(seed)
    clips = []
    for i in range(n):
        base = torch.randn(backbone.latent_dim, 1, generator=gen)
        wave = torch.sin(torch.arange(frames) / (2 + i))[None]
        latents = base * (1 + wave)
        clips.append(Clip(stem=f"c{i}", codes=backbone.quantize_latents(latents[None])[0], prompt=f"clip {i}",
                          latents=latents))
    return clips


def _loop(backbone, steps: int = 30, init_seed: int = 0, stages=(), **planner):
    from omegaconf import OmegaConf

    from toolkit.config.sections.train import TrainConfig
    from toolkit.config.stages import plan_stages
    from toolkit.training.data import ClipSet
    from toolkit.training.loop import Loop

    cfg = OmegaConf.merge(OmegaConf.structured(TrainConfig), {
        "steps": steps, "batch_size": 4, "lr": 3e-3, "warmup_steps": 2, "crop_seconds": 0.16, "val_every": 0,
        "checkpoint_every": 0, "progress": False, "text_dropout": 0.1, "video_dropout": 0.0})
    attached = attach_head(backbone, patch_size=4, seed=init_seed, **planner)
    clips = _clips(backbone)
    attached.head.fit_normalisation([c.latents for c in clips])
    train = ClipSet(clips, backbone.frame_rate, 25.0, cfg.crop_seconds, (), backbone.max_frames)
    return Loop(attached, train, None, cfg, plan_stages(list(stages), steps, attached.stage_names()), 0)


def _sample(attached, seed: int = 5):
    attached.eval()  # as generation runs (PyTorch's encoder layers take another kernel path in eval mode)
    memory, mask = attached.backbone.encode_text(["clip 1"])
    return sample_patches(attached.head, memory, mask, 11, generator=torch.Generator().manual_seed(seed))


def test_training_lowers_the_flow_loss_and_touches_only_adapters(backbone):
    frozen = {k: v.clone() for k, v in backbone.model.state_dict().items()}
    loop = _loop(backbone, steps=60)
    losses = [loop.train_step(s)["loss"] for s in range(60)]
    assert sum(losses[-10:]) / 10 < 0.6 * sum(losses[:10]) / 10, losses
    lora = [p for p in loop.attached.conditioners["lora"].parameters() if p.requires_grad]
    assert lora and all(p.grad is not None and p.grad.abs().sum() > 0 for p in lora)  # the planner adapts too
    for name, value in backbone.model.state_dict().items():
        if "lora_" not in name:
            assert torch.equal(value, frozen[name.replace(".base_layer", "")]), name


def test_checkpoint_reloads_into_identical_samples_and_resumes_exactly(backbone, tiny_model, tmp_path):
    from toolkit.backbone.frozen import Backbone
    from toolkit.training.checkpoint import load_checkpoint, save_checkpoint

    whole = _loop(backbone, steps=8)
    whole_losses = [whole.train_step(s)["loss"] for s in range(8)]

    fresh = lambda: Backbone(copy.deepcopy(tiny_model[0]), tiny_model[1])  # noqa: E731
    first = _loop(fresh(), steps=8)
    losses = [first.train_step(s)["loss"] for s in range(4)]
    expected = _sample(first.attached)
    save_checkpoint(tmp_path / "ckpt", first.attached, {"name": "pr"}, 4, first.optimizer, first.scheduler)

    checkpoint = load_checkpoint(tmp_path / "ckpt")
    second = _loop(fresh(), steps=8, init_seed=1)  # other random init and no statistics: all must come from the file
    second.attached.head.latent_std.fill_(3.0)
    assert not torch.equal(_sample(second.attached)[1], expected[1])
    checkpoint.load_into(second.attached)
    second.load_state_dict(checkpoint.trainer_state())
    reloaded = _sample(second.attached)
    assert torch.equal(reloaded[0], expected[0]) and torch.equal(reloaded[1], expected[1])

    losses += [second.train_step(s)["loss"] for s in range(4, 8)]
    assert losses == whole_losses


def test_stages_train_the_head_first_then_the_planner_adapters(backbone):
    from toolkit.config.sections.train import StageConfig

    stages = [StageConfig("head", ["plan_refine"], 0.5), StageConfig("joint", None, 0.5)]
    loop = _loop(backbone, steps=6, stages=stages)

    def snapshot(name):
        return [p.detach().clone() for p in loop.attached.parts[name].parameters()]

    lora, head = snapshot("lora"), snapshot("plan_refine")
    for step in range(3):
        loop.train_step(step)
    assert all(torch.equal(a, b) for a, b in zip(lora, snapshot("lora"), strict=True))  # frozen in stage 1
    assert any(not torch.equal(a, b) for a, b in zip(head, snapshot("plan_refine"), strict=True))
    for step in range(3, 6):
        loop.train_step(step)
    assert any(not torch.equal(a, b) for a, b in zip(lora, snapshot("lora"), strict=True))


def test_batches_crop_latents_and_codes_at_the_same_frames(backbone):
    from toolkit.training.data import ClipSet

    clips = _clips(backbone, frames=40)
    for clip in clips:  # codes that name their frame, so a crop can be located
        clip.codes = torch.arange(40).expand(backbone.num_codebooks, 40).clone()
        clip.latents = torch.arange(40.0).expand(backbone.latent_dim, 40).clone()
    batch = ClipSet(clips, backbone.frame_rate, 25.0, 0.1, ()).sample(4, torch.Generator().manual_seed(3))
    assert batch.latents.shape == (4, backbone.latent_dim, 10)
    assert torch.equal(batch.latents[:, 0].long(), batch.codes[:, 0])
    assert len({int(s) for s in batch.codes[:, 0, 0]}) > 1  # the crops start at different frames
