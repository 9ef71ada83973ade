"""In-attention: a signal added to the hidden state entering a decoder layer, through a forward pre-hook.

Under incremental decoding the layer sees only the new positions; the hook reads how many positions its own
self-attention cache already holds, so step t of generation adds `signal[t]` exactly as the full
(teacher-forced) pass does. The cache is found by its type among the call's arguments, not by keyword name:
transformers renames that keyword between releases (`past_key_values` → `cache` in 5.24), and a lookup by
name then reads offset 0 at every step without any error.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle
from transformers.cache_utils import Cache

# signal(offset, length) → (B, length, D) to add at decoder positions [offset, offset + length), or None.
SignalFn = Callable[[int, int], "torch.Tensor | None"]


def find_cache(args: tuple, kwargs: dict) -> Cache | None:
    """The KV cache passed to a layer call, whatever the argument is called (None without one)."""
    for value in (*kwargs.values(), *args):
        if isinstance(value, Cache):
            return value
    return None


def cache_offset(layer: nn.Module, kwargs: dict, args: tuple = ()) -> int:
    """Positions before this call's first one: the layer's cached self-attention length (0 without cache)."""
    cache = find_cache(args, kwargs)
    if cache is None:
        return 0
    index = getattr(getattr(layer, "self_attn", None), "layer_idx", None)
    return int(cache.get_seq_length(0 if index is None else index))


def add_in_attention(layer: nn.Module, signal: SignalFn) -> RemovableHandle:
    """Add `signal(offset, length)` to the hidden state entering `layer`; returns the hook's handle."""

    def pre_hook(module: nn.Module, args: tuple, kwargs: dict):
        hidden = args[0] if args else kwargs["hidden_states"]
        add = signal(cache_offset(module, kwargs, args), hidden.shape[1])
        if add is None:
            return None
        if add.shape != hidden.shape:
            raise ValueError(
                f"in-attention signal {tuple(add.shape)} does not match hidden {tuple(hidden.shape)}"
            )
        hidden = hidden + add.to(hidden.dtype)
        if args:
            return (hidden, *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": hidden}

    return layer.register_forward_pre_hook(pre_hook, with_kwargs=True)
