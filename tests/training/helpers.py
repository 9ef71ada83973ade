"""Synthetic clips with known features, a train config, and a `Loop` with VidMusician's adapters attached."""

from __future__ import annotations

import torch

FPS = 25.0  # video features at a quarter of the tiny codec's 100 Hz
CLIP_DIM = 12
SPECS = [
    {"name": "semantic", "feature_dim": CLIP_DIM},
    {"name": "rhythm", "block_size": 2},
    {"name": "lora", "rank": 2},
]


def make_clips(n: int = 4, seconds: float = 1.0, seed: int = 0):
    """Clips with random codes and features; feature frame f of clip i carries the value f in `clip.global`'s
    first channel (so crops can be located)."""
    from toolkit.training.data import Clip

    gen = torch.Generator().manual_seed(seed)
    clips = []
    for i in range(n):
        frames = round(seconds * FPS)
        semantic = torch.randn(frames, CLIP_DIM, generator=gen)
        semantic[:, 0] = torch.arange(frames)
        clips.append(Clip(
            stem=f"clip{i}",
            codes=torch.randint(0, 32, (2, round(seconds * 100)), generator=gen),
            features={
                "clip.global": semantic.numpy(),
                "interframe.distance": torch.rand(frames, generator=gen).numpy(),
            },
            prompt=f"prompt {i}",
            paraphrases=(f"paraphrase {i}",),
        ))
    return clips


def train_cfg(**overrides):
    from omegaconf import OmegaConf

    from toolkit.config.sections.train import TrainConfig

    base = {"steps": 6, "batch_size": 2, "lr": 1e-2, "warmup_steps": 1, "crop_seconds": 0.3, "val_every": 0,
            "checkpoint_every": 0, "progress": False, "text_dropout": 0.2, "video_dropout": 0.2}
    return OmegaConf.merge(OmegaConf.structured(TrainConfig), {**base, **overrides})


def make_loop(backbone, stages=(), seed: int = 0, **overrides):
    """A `Loop` over synthetic clips with SPECS attached (rhythm's encoder seeded by `seed`)."""
    from toolkit.config.stages import plan_stages
    from toolkit.model.attach import attach
    from toolkit.training.data import ClipSet
    from toolkit.training.loop import Loop

    cfg = train_cfg(**overrides)
    torch.manual_seed(seed)
    attached = attach(backbone, SPECS, fps=FPS)
    keys = attached.feature_keys
    train = ClipSet(make_clips(4), backbone.frame_rate, FPS, cfg.crop_seconds, keys, backbone.max_frames)
    val = ClipSet(make_clips(2, seed=1), backbone.frame_rate, FPS, cfg.crop_seconds, keys, backbone.max_frames)
    planned = plan_stages(list(stages), cfg.steps, attached.stage_names())
    return Loop(attached, train, val, cfg, planned, seed)
