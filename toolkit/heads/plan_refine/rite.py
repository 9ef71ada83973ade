"""RITE, the residual integration transformer encoder: a small transformer over one patch's quantised plan
whose output is added back onto the plan (the residual path), so the refined plan keeps what FSQ kept and adds
what the context within the patch implies. Its output projection starts at zero: RITE is the identity at
initialisation, and training moves it away only as far as the loss asks."""

from __future__ import annotations

import torch
from torch import nn

from toolkit.conditioners.init import zero_linear


class RITE(nn.Module):
    """`plan (N, P, D)` → `plan + out(encoder(plan))`, an encoder of `layers` pre-norm blocks with `heads` heads
    over the P positions of each patch (with learned positions); `layers=0` is the identity."""

    def __init__(self, dim: int, layers: int = 2, heads: int = 4, max_patch: int = 64) -> None:
        super().__init__()
        self.layers = layers
        if layers:
            block = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
            self.position = nn.Parameter(torch.zeros(max_patch, dim))
            nn.init.normal_(self.position, std=0.02)
            self.out = zero_linear(dim, dim)

    def forward(self, plan: torch.Tensor) -> torch.Tensor:
        if not self.layers:
            return plan
        if plan.shape[1] > self.position.shape[0]:
            raise ValueError(f"RITE: a patch of {plan.shape[1]} frames exceeds max_patch={self.position.shape[0]}")
        return plan + self.out(self.encoder(plan + self.position[: plan.shape[1]]))
