"""What a trained run's model says about held-out clips, for the metrics that ask it (`MusicScorer`): how much
its conditioners take from the video (its head loss on each clip's own music without the video minus with it,
`nll_gain`), and what it predicts of the music's targets from the video alone (`rhythm_pred_*`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from toolkit.features.batch import drop_video
from toolkit.features.read import feature_kinds
from toolkit.heads.base import MusicCrop
from toolkit.metrics.context import TargetPrediction
from toolkit.training.data import ClipSet, load_clips


class VideoNllScorer:
    """Scores the test items of a run with its attached model (empty prompt, each clip's first
    `train.crop_seconds`, no targets: what generation would see). Rows without video are the bare backbone
    exactly, so a positive gain is information taken from the video. For the token head the loss is the
    decoder's cross-entropy in nats per token; for plan-and-refine it is its flow loss, with the same noise
    for both rows."""

    def __init__(self, cfg: Any, attached: Any, items: Sequence[Any]) -> None:
        self.cfg, self.attached, self.items = cfg, attached, {i.stem: i for i in items}

    def _crops(self, ids: list[str], keys: list[str]) -> tuple[list[Any], ClipSet]:
        """The clips of `ids` (those among the items) with features `keys`, and their first crops."""
        cfg, backbone, head = self.cfg, self.attached.backbone, self.attached.head
        clips = load_clips([self.items[i] for i in ids if i in self.items], backbone, cfg, keys,
                           latents="latents" in head.music)
        return clips, ClipSet(clips, backbone.frame_rate, cfg.features.fps, cfg.train.crop_seconds, keys,
                              backbone.max_frames, feature_kinds(cfg, keys))

    def video_nll_gain(self, ids: list[str]) -> dict[str, float]:
        attached = self.attached
        keys = attached.input_keys
        if not keys:
            return {i: 0.0 for i in ids}  # nothing reads the video
        backbone, head = attached.backbone, attached.head
        clips, crops = self._crops(ids, keys)
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

    def target_predictions(self, ids: list[str]) -> dict[str, TargetPrediction]:
        """Each clip's first `train.crop_seconds`: the first music target a conditioner predicts, and the real one
        (read from the clip's cached features; the prediction never reads it)."""
        attached, cfg = self.attached, self.cfg
        if not any(c.targets for c in attached.conditioners.values()):
            return {}
        keys = attached.feature_keys
        kinds = feature_kinds(cfg, keys)
        clips, crops = self._crops(ids, keys)
        out = {}
        with torch.no_grad():
            for n, clip in enumerate(clips):
                torch.manual_seed(n)
                with attached.conditioned(crops.batch([n]).features, training=True):
                    found = [p for c in attached.conditioners.values() for p in c.target_predictions().items()]
                if not found:
                    continue
                key, (predicted, target, mask) = found[0]
                valid = mask[0] > 0
                out[clip.stem] = TargetPrediction(key, predicted[0][valid].cpu().numpy(),
                                                  target[0][valid].cpu().numpy(),
                                                  kinds[key].rate_at(float(cfg.features.fps)))
        return out
