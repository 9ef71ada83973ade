"""MusicGen's delay pattern: codebook k is shifted k steps later, so one decoder step predicts every codebook.

Codes are `(B, K, T)`; the delayed form is `(B, K, T + K - 1)` with `pad_id` where a codebook has no frame.
The decoder is fed a leading start column (`pad_id`, MusicGen's decoder_start token) before the delayed codes.
"""

from __future__ import annotations

import torch


def delay_codes(codes: torch.Tensor, pad_id: int) -> torch.Tensor:
    """`(B,K,T)` frame-aligned codes → `(B,K,T+K-1)` delayed codes (codebook k starts at step k)."""
    batch, num_codebooks, frames = codes.shape
    delayed = codes.new_full((batch, num_codebooks, frames + num_codebooks - 1), pad_id)
    for k in range(num_codebooks):
        delayed[:, k, k : k + frames] = codes[:, k]
    return delayed


def undelay_codes(delayed: torch.Tensor) -> torch.Tensor:
    """Inverse of `delay_codes`: `(B,K,S)` delayed → `(B,K,S-K+1)` frame-aligned codes."""
    batch, num_codebooks, steps = delayed.shape
    frames = steps - num_codebooks + 1
    if frames < 0:
        raise ValueError(f"delayed codes have {steps} steps, fewer than {num_codebooks - 1} delay steps")
    return torch.stack([delayed[:, k, k : k + frames] for k in range(num_codebooks)], dim=1)


def frame_of_step(step: int, codebook: int) -> int:
    """The frame a codebook emits at a delayed step (negative or past the end means padding)."""
    return step - codebook


def delayed_labels(codes: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Labels in transformers' layout `(B, T+K-1, K)`; MusicGen's loss ignores the pad positions."""
    return delay_codes(codes, pad_id).transpose(1, 2)
