"""FiLM for diffusion heads: `h · (1 + scale) + shift`, with scale and shift predicted from the diffusion
timestep and a condition vector by a zero-initialised layer, so the module is the identity at init."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from toolkit.conditioners.init import zero_linear


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding `(B, dim)` of (possibly fractional) timesteps `(B,)`."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    return torch.nn.functional.pad(emb, (0, dim % 2))


class FiLM(nn.Module):
    """Feature-wise modulation of `(B, ..., dim)` features by a timestep `(B,)` and/or a condition `(B,
    cond_dim)` (or per position `(B, S, cond_dim)`). Identity at initialisation."""

    def __init__(self, dim: int, cond_dim: int = 0, time_dim: int = 128, hidden: int | None = None) -> None:
        super().__init__()
        if not cond_dim and not time_dim:
            raise ValueError("FiLM needs a timestep embedding, a condition, or both")
        self.time_dim, self.cond_dim = time_dim, cond_dim
        hidden = hidden or dim
        self.mlp = nn.Sequential(nn.Linear(time_dim + cond_dim, hidden), nn.SiLU())
        self.to_scale_shift = zero_linear(hidden, 2 * dim)

    def forward(self, h: torch.Tensor, t: torch.Tensor | None = None, cond: torch.Tensor | None = None):
        parts = []
        if self.time_dim:
            if t is None:
                raise ValueError("this FiLM was built with a timestep embedding: pass t")
            emb = timestep_embedding(t, self.time_dim).to(h.dtype)
            parts.append(
                emb if cond is None or cond.dim() == 2 else emb[:, None].expand(-1, cond.shape[1], -1)
            )
        if self.cond_dim:
            if cond is None:
                raise ValueError("this FiLM was built with a condition: pass cond")
            parts.append(cond.to(h.dtype))
        scale, shift = self.to_scale_shift(self.mlp(torch.cat(parts, dim=-1))).chunk(2, dim=-1)
        while scale.dim() < h.dim():  # a per-clip modulation broadcasts over positions
            scale, shift = scale.unsqueeze(-2), shift.unsqueeze(-2)
        return h * (1 + scale) + shift


def add_film(
    module: nn.Module, film: FiLM, context: Callable[[], tuple[torch.Tensor | None, torch.Tensor | None]]
) -> RemovableHandle:
    """Modulate `module`'s output with `film(output, *context())`; returns the hook's handle."""

    def hook(_module: nn.Module, _args: tuple, output):
        hidden = output[0] if isinstance(output, tuple) else output
        hidden = film(hidden, *context())
        return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

    return module.register_forward_hook(hook)
