"""Diff-V2M's hierarchical cross-attention after a decoder layer: emotion first, then semantic and rhythm in
parallel, fused.

    h₁ = h + tanh(g_e) · attn_e(h, emotion tokens)
    h₂ = h₁ + fuse(tanh(g_s) · attn_s(h₁, semantic tokens), tanh(g_r) · attn_r(h₁, rhythm tokens))

Every gate starts at 0 and the fusion is linear in the branch outputs, so the layer's output is bit-identical
to the frozen backbone's at initialisation. (Diff-V2M's released code feeds the rhythm tokens to the emotion
attention by mistake; this is the intended version, as the paper describes.)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from toolkit.conditioners.diffv2m.fusion import StaticFusion
from toolkit.conditioners.hooks.cross import GatedCrossAttention, change_output

BRANCHES = ("emotion", "semantic", "rhythm")
# tokens() → {branch: (tokens (B, L, memory), mask (B, L), keep (B,))}, or None when nothing is prepared.
TokensFn = Callable[[], "dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] | None"]


class HierarchicalCrossAttention(nn.Module):
    """The three gated cross-attentions of one decoder layer and the fusion of the last two."""

    def __init__(self, attention: dict[str, GatedCrossAttention], fusion: StaticFusion) -> None:
        super().__init__()
        if set(attention) != set(BRANCHES):
            raise ValueError(f"one cross-attention per branch {BRANCHES}, got {sorted(attention)}")
        self.attention = nn.ModuleDict(attention)
        self.fusion = fusion

    def forward(self, hidden: torch.Tensor, prepared: dict[str, tuple[torch.Tensor, ...]]) -> torch.Tensor:
        hidden = self.attention["emotion"](hidden, *prepared["emotion"])
        semantic = self.attention["semantic"].gated(hidden, *prepared["semantic"])
        rhythm = self.attention["rhythm"].gated(hidden, *prepared["rhythm"])
        return hidden + self.fusion(semantic, rhythm)


def add_hierarchical(layer: nn.Module, module: HierarchicalCrossAttention, tokens: TokensFn) -> RemovableHandle:
    """Apply `module` to `layer`'s output with the tokens `tokens()` returns; returns the hook's handle."""

    def change(hidden: torch.Tensor) -> torch.Tensor | None:
        prepared = tokens()
        return None if prepared is None else module(hidden, prepared)

    return change_output(layer, change)
