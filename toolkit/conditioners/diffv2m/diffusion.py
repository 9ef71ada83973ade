"""Diff-V2M's conditioning inside a diffusion head's blocks (plan-and-refine's Loc-DiT), with timestep-aware
fusion.

After each Loc-DiT block, for each row (one patch of one clip, `PatchWhere` from the head):

    h₁ = h + tanh(g_e) · attn_e(h, emotion tokens)
    h₂ = h₁ + fuse_τ(tanh(g_s) · attn_s(h₁, semantic tokens), tanh(g_r) · attn_r(h₁, rhythm tokens))

Each row reads only the tokens of its own clip that lie within its patch's time span (half a token step of
margin each side): Loc-DiT denoises one patch, so its conditions are that patch's. Gates at zero and the fusion's
zero-initialised shifts make every block the identity at initialisation.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from toolkit.conditioners.diffv2m.fusion import TimeFusion
from toolkit.conditioners.hooks.cross import GatedCrossAttention

Local = dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # branch → (tokens, mask, keep) per row


class DiffusionBlockConditioning(nn.Module):
    """The three gated cross-attentions and the timestep-aware fusion of one Loc-DiT block."""

    def __init__(self, width: int, heads: int, fusion: str) -> None:
        super().__init__()
        self.attention = nn.ModuleDict({b: GatedCrossAttention(width, width, heads) for b in
                                        ("emotion", "semantic", "rhythm")})
        self.fusion = TimeFusion(fusion, width)

    def _branch(self, name: str, hidden: torch.Tensor, local: Local, t: torch.Tensor) -> torch.Tensor:
        tokens, mask, keep = local[name]
        if name != "emotion":
            tokens = self.fusion.tokens(name, tokens, t)
        return self.attention[name].gated(hidden, tokens, mask, keep)

    def forward(self, hidden: torch.Tensor, t: torch.Tensor, local: Local) -> torch.Tensor:
        hidden = hidden + self._branch("emotion", hidden, local, t)
        semantic, rhythm = self._branch("semantic", hidden, local, t), self._branch("rhythm", hidden, local, t)
        return hidden + self.fusion(semantic, rhythm, t)


def local_tokens(prepared: Local, times: dict[str, torch.Tensor], rates: dict[str, float], where: Any) -> Local:
    """Each row's clip's tokens, masked to those inside its patch's span (`where`: the head's `PatchWhere`)."""
    out = {}
    for branch, (tokens, mask, keep) in prepared.items():
        rows = where.rows.to(tokens.device)
        start = where.start.to(tokens.device)[:, None]
        half = 0.5 / rates[branch]
        at = times[branch].to(tokens.device)[None]
        inside = ((at >= start - half) & (at < start + where.seconds + half)).to(mask.dtype)
        out[branch] = (tokens[rows], mask[rows] * inside, keep[rows])
    return out
