"""Linear layers that start as no-ops: zero-initialised (output 0) and identity-initialised (output = input).

These keep the frozen backbone's behaviour at step 0 (VidMusician's "Zero-Linear" and "Identity-Linear")."""

from __future__ import annotations

import torch
from torch import nn


def zero_linear(in_features: int, out_features: int, bias: bool = True) -> nn.Linear:
    """A linear layer whose weight and bias are zero: its output is exactly 0 until trained."""
    layer = nn.Linear(in_features, out_features, bias=bias)
    nn.init.zeros_(layer.weight)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


def identity_linear(in_features: int, out_features: int, bias: bool = True) -> nn.Linear:
    """A linear layer initialised to the identity (the rectangular `eye` when widths differ: features are
    truncated or zero-padded), zero bias."""
    layer = nn.Linear(in_features, out_features, bias=bias)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(out_features, in_features))
        if bias:
            layer.bias.zero_()
    return layer
