"""VidMusician's rhythm conditioner: the inter-frame distance curve of CLIP local features, resampled to the
backbone's frame rate, added in-attention to the hidden state entering the first layer of each block of
`block_size` decoder layers (the first `coverage` fraction of blocks, counted from the bottom).

Per decoder step s (time s / frame_rate; with MusicGen's delay pattern, the step that predicts frame s of the
first codebook) the curve value (and `context` video frames on each side, the video being known in full) goes
through a shared random-initialised `Linear + SiLU` encoder, then through one zero-initialised linear per
covered block ("Zero-Linear"), so the added signal is exactly zero at initialisation (bit-identical logits).
Steps past the video's end, and rows without video, get no signal.

`normalise` (off by default, as in the paper) rescales each clip's curve before the encoder to
`log(1 + d / median(d))`, the median taken over the clip's real frames only (padding and dropped video are
ignored). Why this and not a z-score: the raw distance is heavy-tailed and spans orders of magnitude — a quiet
floor, small spikes on beats (a few times the floor), and cuts a hundred times the floor — so a mean and
standard deviation are set by the one or two cuts and leave the beats as tiny as before. Dividing by the median
measures every frame against the clip's own floor, which makes the input independent of how much a clip moves
overall and of the feature extractor's scale; the log then compresses the tail so a beat and a cut differ by a
small factor rather than a hundredfold, within the range where a `Linear + SiLU` can tell them apart. The
median of a crop or a generation window is close to the whole clip's, so training crops and generated windows
see the same scaling.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from toolkit.conditioners.base import Conditioner, as_tensor
from toolkit.conditioners.hooks.in_attention import add_in_attention
from toolkit.conditioners.init import zero_linear
from toolkit.conditioners.registry import register_conditioner
from toolkit.errors import UserError
from toolkit.features.batch import FeatureBatch
from toolkit.features.resample import frame_positions, hold_last, resample_mask, resample_time
from toolkit.utils.ranges import Range


def block_starts(num_layers: int, block_size: int, coverage: float) -> list[int]:
    """First layer of each covered block: blocks of `block_size` layers, the first `coverage` fraction of them
    (at least one when coverage > 0)."""
    blocks = math.ceil(num_layers / block_size)
    covered = min(blocks, max(1, round(coverage * blocks))) if coverage > 0 else 0
    return [b * block_size for b in range(covered)]


def median_log_scale(curve: torch.Tensor, mask: torch.Tensor, floor: float = 1e-6) -> torch.Tensor:
    """`log(1 + d / m)` of a `(B, T)` distance curve, `m` each row's median over its real frames (mask > 0;
    at least `floor`, so a static clip does not divide by zero). Rows without a real frame are returned
    scaled by 1 (they carry no signal anyway)."""
    real = curve.masked_fill(mask <= 0, float("nan"))
    median = torch.nan_to_num(real.nanmedian(dim=1, keepdim=True).values, nan=1.0).clamp(min=floor)
    return torch.log1p(curve.clamp(min=0) / median)


@register_conditioner("rhythm")
class RhythmConditioner(Conditioner):
    """Video rhythm (inter-frame distance) → in-attention at the first layer of each block (module docstring).

    `block_size` (N) and `coverage` choose the layers; `width` is the encoder's width (default: the
    decoder's); `context` adds that many neighbouring video frames on each side as inputs; `fps` is the
    features' rate; `normalise` rescales each clip's curve to `log(1 + d / median)` (module docstring)."""

    inputs = ("interframe.distance",)
    hook = "in_attention"
    ranges = {"block_size": Range(1), "coverage": Range(0, 1, low_inclusive=False), "context": Range(0),
              "width": Range(1)}

    @classmethod
    def check_config(cls, kwargs: Mapping[str, Any], where: str) -> None:
        """The ranges, and `normalise` a boolean (YAML reads `normalise: maybe` as text, not an error)."""
        super().check_config(kwargs, where)
        normalise = kwargs.get("normalise", False)
        if not isinstance(normalise, bool):
            raise UserError(f"{where}.normalise: must be true or false, got {normalise!r}")

    def __init__(
        self,
        backbone: Any,
        block_size: int = 4,
        coverage: float = 1.0,
        width: int | None = None,
        context: int = 0,
        fps: float = 8.0,
        normalise: bool = False,
    ) -> None:
        super().__init__(backbone)
        self.check_config({"block_size": block_size, "coverage": coverage, "context": context, "width": width,
                           "normalise": normalise}, "conditioners.rhythm")
        self.block_size, self.coverage = int(block_size), float(coverage)
        self.context, self.fps, self.normalise = int(context), float(fps), normalise
        self.frame_rate = float(backbone.frame_rate)
        self.layer_ids = block_starts(len(backbone.decoder_layers), self.block_size, self.coverage)
        width = int(width or backbone.hidden_size)
        self.encoder = nn.Sequential(nn.Linear(2 * context + 1, width), nn.SiLU())
        self.zero_linears = nn.ModuleList(zero_linear(width, backbone.hidden_size) for _ in self.layer_ids)
        self._curve: torch.Tensor | None = None
        self._mask: torch.Tensor | None = None

    def attach(self) -> None:
        if self.attached:
            return
        for i, proj in zip(self.layer_ids, self.zero_linears, strict=True):
            self._handles.append(add_in_attention(self.backbone.decoder_layers[i], self._signal_for(proj)))

    def prepare(self, features: FeatureBatch) -> None:
        device = next(self.parameters()).device
        curve = as_tensor(features["interframe.distance"], device=device)
        if curve.dim() == 3 and curve.shape[-1] == 1:
            curve = curve[..., 0]
        if curve.dim() != 2:
            raise UserError(
                f"conditioners.rhythm: interframe.distance has shape {tuple(curve.shape)}, "
                "expected (batch, frames)"
            )
        mask = features.mask("interframe.distance").to(device)
        keep = (mask.sum(-1, keepdim=True) > 0).float()
        if self.normalise:
            curve = median_log_scale(curve.float(), mask)
        self._curve, self._mask = hold_last(curve, mask), mask * keep

    def release(self) -> None:
        self._curve = self._mask = None

    def _encoded(self, offset: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder output `(B, length, width)` and step mask `(B, length)` for decoder steps from `offset`.
        Recomputed per covered layer (it is tiny next to the zero-linears), so no state outlives a pass."""
        steps = torch.arange(offset, offset + length, device=self._curve.device)
        centre = frame_positions(steps, self.fps, self.frame_rate)
        shifts = torch.arange(-self.context, self.context + 1, device=steps.device)  # in video frames
        positions = (centre[:, None] + shifts[None]).reshape(-1).clamp(min=0)
        window = resample_time(self._curve, positions).reshape(-1, length, len(shifts))
        encoded = self.encoder(window.to(self.encoder[0].weight.dtype))
        return encoded, resample_mask(self._mask, centre)

    def _signal_for(self, proj: nn.Linear):
        def signal(offset: int, length: int):
            if self._curve is None:
                return None
            encoded, step_mask = self._encoded(offset, length)
            return proj(encoded) * step_mask[..., None].to(encoded.dtype)

        return signal
