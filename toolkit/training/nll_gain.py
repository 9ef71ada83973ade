"""How much a trained run's conditioners take from the video: its head loss on each clip's own music without
the video minus with it (the `nll_gain` metric's `MusicScorer`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from toolkit.features.batch import drop_video
from toolkit.features.read import feature_kinds
from toolkit.heads.base import MusicCrop
from toolkit.training.data import ClipSet, load_clips


class VideoNllScorer:
    """Scores the test items of a run with its attached model (empty prompt, each clip's first
    `train.crop_seconds`, no targets: what generation would see). Rows without video are the bare backbone
    exactly, so a positive gain is information taken from the video. For the token head the loss is the
    decoder's cross-entropy in nats per token; for plan-and-refine it is its flow loss, with the same noise
    for both rows."""

    def __init__(self, cfg: Any, attached: Any, items: Sequence[Any]) -> None:
        self.cfg, self.attached, self.items = cfg, attached, {i.stem: i for i in items}

    def video_nll_gain(self, ids: list[str]) -> dict[str, float]:
        attached, cfg = self.attached, self.cfg
        keys = attached.input_keys
        if not keys:
            return {i: 0.0 for i in ids}  # nothing reads the video
        backbone, head = attached.backbone, attached.head
        items = [self.items[i] for i in ids if i in self.items]
        clips = load_clips(items, backbone, cfg, keys, latents="latents" in head.music)
        crops = ClipSet(clips, backbone.frame_rate, cfg.features.fps, cfg.train.crop_seconds, keys,
                        backbone.max_frames, feature_kinds(cfg, keys))
        memory, mask = backbone.encode_text([""])
        gains = {}
        with torch.no_grad():
            for n, clip in enumerate(clips):
                batch = crops.batch([n])
                latents = None if batch.latents is None else batch.latents.to(backbone.device)
                crop = MusicCrop(batch.codes.to(backbone.device), memory, mask, latents)
                losses = []
                for features in (drop_video(batch.features, torch.tensor([True])), batch.features):
                    torch.manual_seed(n)  # the same noise for both rows (flow heads draw it)
                    with attached.conditioned(features, training=False):
                        losses.append(float(head.loss(attached, crop)))
                gains[clip.stem] = losses[0] - losses[1]
        return gains
