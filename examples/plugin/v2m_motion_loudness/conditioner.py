"""The `loudness_from_motion` conditioner: the music's loudness, predicted from the video's motion.

A small predictor maps the motion energy (an input: derived from the video) to a loudness curve and is trained
by an auxiliary MSE against the music's real loudness (a target: derived from the music, training only). The
curve is added to the hidden state entering the first decoder layer through a zero-initialised projection:
the real loudness during the first `teacher_fraction` of training (teacher forcing, while the prediction is
still poor), the prediction afterwards and always at generation, where the real loudness does not exist.

Everything runs on the decoder's step grid (step s ↔ time s / `backbone.frame_rate`): motion is resampled
from the video's `fps`, the target from its own rate (read from the batch), so any loudness rate works.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from toolkit.conditioners.base import Conditioner
from toolkit.conditioners.hooks.in_attention import add_in_attention
from toolkit.conditioners.init import zero_linear
from toolkit.conditioners.registry import register_conditioner
from toolkit.features.batch import FeatureBatch
from toolkit.features.resample import frame_positions, hold_last, resample_mask, resample_time
from toolkit.utils.ranges import Range

MOTION, LOUDNESS = "motion.energy", "loudness.rms"


@register_conditioner("loudness_from_motion")
class LoudnessFromMotion(Conditioner):
    """Loudness predicted from motion (aux MSE against the music's), added in-attention at the first layer.

    `teacher_fraction`: the share of training that feeds the real loudness instead of the prediction;
    `width`: the predictor's hidden width; `db_range`: loudness is read as `1 + dB / db_range` clipped to
    [0, 1] (0 dB → 1, `-db_range` dB and below → 0); `fps`: the video features' rate (set by the toolkit)."""

    inputs = (MOTION,)
    targets = (LOUDNESS,)
    hook = "in_attention"
    ranges = {"teacher_fraction": Range(0, 1), "width": Range(1), "db_range": Range(0, low_inclusive=False),
              "fps": Range(0, low_inclusive=False)}

    def __init__(self, backbone: Any, teacher_fraction: float = 0.3, width: int = 16, db_range: float = 80.0,
                 fps: float = 8.0) -> None:
        super().__init__(backbone)
        self.check_config({"teacher_fraction": teacher_fraction, "width": width, "db_range": db_range,
                           "fps": fps}, "conditioners.loudness_from_motion")
        self.teacher_fraction, self.db_range, self.fps = float(teacher_fraction), float(db_range), float(fps)
        self.rate = float(backbone.frame_rate)
        self.predictor = nn.Sequential(nn.Linear(1, int(width)), nn.SiLU(), nn.Linear(int(width), 1))
        self.inject = zero_linear(1, backbone.hidden_size)  # zero: attaching changes no logit until trained
        self._curve: torch.Tensor | None = None  # (B, steps) on the decoder grid
        self._mask: torch.Tensor | None = None  # (B, steps): 1 where the video exists
        self._loss: torch.Tensor | None = None

    def attach(self) -> None:
        if not self.attached:
            self._handles.append(add_in_attention(self.backbone.decoder_layers[0], self._signal))

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """`predictor` (trained by the MSE) and `inject` (trained by the head's loss): stages may train either."""
        return {"predictor": list(self.predictor.parameters()), "inject": list(self.inject.parameters())}

    def prepare(self, features: FeatureBatch) -> None:
        device = self.inject.weight.device
        motion = features[MOTION].float().to(device)
        mask = features.mask(MOTION).float().to(device)  # rows without video (dropout, guidance) are zero
        steps = math.ceil(motion.shape[1] * self.rate / self.fps - 1e-9)  # decoder steps the video covers
        positions = frame_positions(steps, self.fps, self.rate)
        self._mask = resample_mask(mask, positions)
        predicted = self.predictor(resample_time(hold_last(motion, mask), positions)[..., None])[..., 0]
        curve = predicted
        self._loss = None
        if features.training:
            real, real_mask = self._real_loudness(features, steps)
            weight = real_mask * self._mask
            self._loss = ((predicted - real) ** 2 * weight).sum() / weight.sum().clamp(min=1)
            step, total = self.progress
            if step < self.teacher_fraction * total:  # a target scheduled as an input: teacher forcing early
                curve = real
            # The generator's loss must not train the predictor (only the MSE does), or the curve it feeds
            # would drift from loudness into whatever code helps the decoder; at generation there is no loss.
            curve = curve.detach()
        self._curve = curve

    def _real_loudness(self, features: FeatureBatch, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The target on the decoder grid, scaled to [0, 1], and its mask (readable in training only)."""
        device = self.inject.weight.device
        rms = features[LOUDNESS].float().to(device)
        mask = features.mask(LOUDNESS).float().to(device)
        positions = frame_positions(steps, features.kind(LOUDNESS).rate_at(self.fps), self.rate)
        unit = (1 + hold_last(rms, mask) / self.db_range).clamp(0, 1)
        return resample_time(unit, positions), resample_mask(mask, positions)

    def _signal(self, offset: int, length: int) -> torch.Tensor | None:
        if self._curve is None:
            return None
        steps = torch.arange(offset, offset + length, device=self._curve.device).float()
        values = resample_time(self._curve, steps)  # whole steps: exact values, the last one held past the end
        step_mask = resample_mask(self._mask, steps)  # 0 past the video's end and on rows without video
        return self.inject(values[..., None].to(self.inject.weight.dtype)) * step_mask[..., None]

    def auxiliary_losses(self) -> dict[str, torch.Tensor]:
        """`mse`: the predictor's masked error against the real loudness (logged `<entry>.mse`)."""
        return {} if self._loss is None else {"mse": self._loss}

    def release(self) -> None:
        self._curve = self._mask = self._loss = None
