"""Extra gated cross-attention after a decoder layer: `out + tanh(gate) · attn(norm(out), memory)`.

With the gate at 0 the added term is exactly zero, so the layer's output is bit-identical to the frozen
backbone's while the gate still receives a gradient (Flamingo's tanh gating). Attached by a forward hook on
the layer: the backbone's code and weights are untouched.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.hooks import RemovableHandle

# memory() → (memory (B, L, memory_dim), mask (B, L) float, keep (B,) float) or None (no video this pass).
MemoryFn = Callable[[], "tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None"]


def _base(linear: nn.Module) -> nn.Module:
    """The plain `nn.Linear` under a peft LoRA wrapper (or the layer itself)."""
    return linear.get_base_layer() if hasattr(linear, "get_base_layer") else linear


class GatedCrossAttention(nn.Module):
    """Multi-head cross-attention from decoder hidden states to a conditioning memory, tanh-gated.

    `from_attention` copies a decoder layer's own text cross-attention and its layer norm (see
    `Backbone.cross_attention`), so a memory mapped into the text-memory space is read the way text is from the
    first step (as IP-Adapter initialises).
    """

    def __init__(self, hidden_size: int, memory_size: int, heads: int, gate_init: float = 0.0) -> None:
        super().__init__()
        if hidden_size % heads:
            raise ValueError(f"hidden size {hidden_size} is not divisible by {heads} heads")
        self.heads = heads
        self.norm = nn.LayerNorm(hidden_size)
        self.q_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.k_proj = nn.Linear(memory_size, hidden_size, bias=False)
        self.v_proj = nn.Linear(memory_size, hidden_size, bias=False)
        self.out_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.gate = nn.Parameter(torch.tensor(float(gate_init)))

    @classmethod
    def from_attention(
        cls, attn: nn.Module, norm: nn.Module, heads: int, gate_init: float = 0.0
    ) -> GatedCrossAttention:
        """A copy of cross-attention `attn` (q/k/v/out_proj, possibly LoRA-wrapped) and its pre-norm `norm`."""
        hidden, memory = _base(attn.q_proj).in_features, _base(attn.k_proj).in_features
        module = cls(hidden, memory, heads, gate_init)
        with torch.no_grad():
            module.norm.load_state_dict(norm.state_dict())
            for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
                source = _base(getattr(attn, name))
                getattr(module, name).weight.copy_(source.weight)
        return module.to(next(attn.parameters()).dtype)

    def attend(self, hidden: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Ungated attention output `(B, S, hidden)`; rows with no valid memory token attend uniformly (their
        result is discarded by the caller's `keep`)."""
        b, s, d = hidden.shape
        h = self.heads
        q = self.q_proj(self.norm(hidden)).view(b, s, h, d // h).transpose(1, 2)
        k = self.k_proj(memory).view(b, -1, h, d // h).transpose(1, 2)
        v = self.v_proj(memory).view(b, -1, h, d // h).transpose(1, 2)
        valid = mask > 0
        valid = valid | ~valid.any(-1, keepdim=True)  # a fully masked row would give NaN
        bias = torch.zeros(valid.shape, dtype=q.dtype, device=q.device).masked_fill(~valid, float("-inf"))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias[:, None, None, :])
        return self.out_proj(out.transpose(1, 2).reshape(b, s, d))

    def gated(self, hidden: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor, keep: torch.Tensor):
        """What the module adds: `tanh(gate) · keep · attn(hidden, memory)`; `keep (B,)` zeroes rows without
        video."""
        if memory.shape[0] != hidden.shape[0]:
            raise ValueError(f"memory has {memory.shape[0]} rows but the decoder batch has {hidden.shape[0]}")
        scale = torch.tanh(self.gate) * keep.to(hidden.dtype)[:, None, None]
        return scale * self.attend(hidden, memory, mask)

    def forward(self, hidden: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor, keep: torch.Tensor):
        """`hidden + gated(hidden, memory, mask, keep)`."""
        return hidden + self.gated(hidden, memory, mask, keep)


def change_output(layer: nn.Module, change: Callable[[torch.Tensor], torch.Tensor | None]) -> RemovableHandle:
    """Replace `layer`'s hidden-state output by `change(hidden)` (None leaves it as is), keeping any other
    outputs (the KV cache) in place; returns the hook's handle."""

    def hook(_layer: nn.Module, _args: tuple, output):
        hidden = output[0] if isinstance(output, tuple) else output
        changed = change(hidden)
        if changed is None:
            return None
        return (changed, *output[1:]) if isinstance(output, tuple) else changed

    return layer.register_forward_hook(hook)


def add_cross_attention(layer: nn.Module, module: GatedCrossAttention, memory: MemoryFn) -> RemovableHandle:
    """Apply `module` to `layer`'s output with the memory `memory()` returns; returns the hook's handle."""

    def change(hidden: torch.Tensor) -> torch.Tensor | None:
        prepared = memory()
        return None if prepared is None else module(hidden, *prepared)

    return change_output(layer, change)
