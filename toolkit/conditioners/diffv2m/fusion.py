"""Fusing the semantic (h_s) and rhythm (h_r) branches' contributions on a head without a diffusion time.

`average`: 0.5 h_s + 0.5 h_r. `gate`: α h_s + (1 − α) h_r with α = sigmoid(a), one learned scalar (Diff-V2M's
weighted fusion with its time input removed: the token-by-token head has no diffusion time). Both are linear in
the branch outputs, so with the branches' gates at zero the fused contribution is exactly zero. The
timestep-aware modes (`film`, `film_select`, `pre_film`) need the diffusion head's time and live with it.
"""

from __future__ import annotations

import torch
from torch import nn

STATIC_MODES = ("average", "gate")


class StaticFusion(nn.Module):
    """`average` or a learned static `gate` between the semantic and rhythm branch outputs."""

    def __init__(self, mode: str = "average") -> None:
        super().__init__()
        if mode not in STATIC_MODES:
            raise ValueError(f"fusion must be one of {STATIC_MODES} on this head, got {mode!r}")
        self.mode = mode
        self.logit = nn.Parameter(torch.zeros(())) if mode == "gate" else None

    def weight(self) -> torch.Tensor:
        """α, the semantic branch's share."""
        return torch.sigmoid(self.logit) if self.logit is not None else torch.tensor(0.5)

    def forward(self, semantic: torch.Tensor, rhythm: torch.Tensor) -> torch.Tensor:
        alpha = self.weight().to(semantic.dtype)
        return alpha * semantic + (1 - alpha) * rhythm
