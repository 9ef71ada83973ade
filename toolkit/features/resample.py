"""Resampling video-rate feature curves onto the backbone's frame grid (decoder step s ↔ time s / rate)."""

from __future__ import annotations

import torch


def frame_positions(steps: torch.Tensor | int, src_rate: float, dst_rate: float) -> torch.Tensor:
    """Fractional source indices of destination steps: step s sits at time s / dst_rate."""
    if isinstance(steps, int):
        steps = torch.arange(steps)
    return steps.float() * (float(src_rate) / float(dst_rate))


def resample_time(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of `x (B, T, ...)` at fractional time indices `positions (S,)` → `(B, S, ...)`.

    Positions past the last frame hold the last frame's value (callers mask them with the frame mask)."""
    last = x.shape[1] - 1
    pos = positions.to(x.device).clamp(0, max(last, 0))
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=last)
    frac = (pos - lo.float()).reshape(1, -1, *([1] * (x.dim() - 2))).to(x.dtype)
    return x[:, lo] * (1 - frac) + x[:, hi] * frac


def resample_mask(mask: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Frame mask `(B, T)` at fractional positions `(S,)`: a step is valid when the frame on screen then
    (frame f shows from f/fps until the next) is valid and exists."""
    index = positions.to(mask.device).floor().long()
    inside = index < mask.shape[1]
    picked = mask[:, index.clamp(max=mask.shape[1] - 1)]
    return picked * inside[None].to(mask.dtype)


def hold_last(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`x (B, T, ...)` with each row's padding (mask 0 after its valid prefix) replaced by its last valid
    frame, so interpolating near a clip's end does not blend in padding."""
    index = (mask.cumsum(1) - 1).clamp(min=0).long()
    index = index.reshape(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)
