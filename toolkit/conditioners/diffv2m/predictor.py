"""Diff-V2M's rhythm predictor: from the video alone to the music's rhythm representation, per time step.

Per video frame: the normalised CLIP global feature, plus an embedding of whether a shot starts there (the
scene-cut embedding), plus an MLP of a "pseudo beat" value (the inter-frame distance, log-scaled against the
clip's median); a class token in front; a transformer encoder; a linear head to the representation's width.
Trained by a masked MSE against the real representation, which the predictor learns from alone: what it
predicts reaches the generator detached. Diff-V2M's paper size is 12 layers of width 512 with rotary positions;
the default here is small for CPU, with sinusoidal positions (a documented difference).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoid(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """`(..., dim)` sinusoidal embedding of (fractional) positions."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=positions.device, dtype=torch.float32) / half)
    angles = positions.float()[..., None] * freqs
    return torch.nn.functional.pad(torch.cat([angles.sin(), angles.cos()], dim=-1), (0, dim % 2))


def cut_flags(shot_index: torch.Tensor) -> torch.Tensor:
    """`(B, T)` 1 on the first frame of every shot after the first (a shot index that changes), else 0."""
    flags = torch.zeros_like(shot_index, dtype=torch.long)
    flags[:, 1:] = (shot_index[:, 1:] != shot_index[:, :-1]).long()
    return flags


def masked_mse(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the steps where `mask (B, T)` is 1 (every feature dimension counted)."""
    weight = mask.to(predicted.dtype)
    while weight.dim() < predicted.dim():
        weight = weight[..., None]
    squared = (predicted - target) ** 2 * weight
    return squared.sum() / (weight.expand_as(squared).sum()).clamp(min=1.0)


class RhythmPredictor(nn.Module):
    """Video frames → `(B, T, out_dim)` rhythm representation at the frames' times (module docstring)."""

    def __init__(self, clip_dim: int, out_dim: int, width: int = 64, layers: int = 2, heads: int = 4,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.width = int(width)
        self.clip_in = nn.Sequential(nn.LayerNorm(clip_dim), nn.Linear(clip_dim, width))
        self.cut = nn.Embedding(2, width)
        self.beat = nn.Sequential(nn.Linear(1, width), nn.SiLU(), nn.Linear(width, width))
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, out_dim))

    def forward(self, clip: torch.Tensor, cuts: torch.Tensor, pseudo_beat: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """`clip (B, T, clip_dim)`, `cuts (B, T)` 0/1, `pseudo_beat (B, T)`, `mask (B, T)` → `(B, T, out_dim)`."""
        x = self.clip_in(clip) + self.cut(cuts.long()) + self.beat(pseudo_beat[..., None].to(clip.dtype))
        x = x + sinusoid(torch.arange(x.shape[1], device=x.device), self.width).to(x.dtype)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1).to(x.dtype), x], dim=1)
        valid = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1) > 0
        return self.out(self.encoder(x, src_key_padding_mask=~valid)[:, 1:])
