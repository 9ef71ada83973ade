"""Batched video features as conditioners read them, and the row operations training and guidance need.

A batch is the nested dict `prepare` writes per clip (`{"clip": {"global": ...}, "interframe": {"distance":
...}}`) with tensors stacked to `(B, T_video, ...)` at the features' `fps`, plus an optional top-level
`"mask"` `(B, T_video)`: 1 for real frames, 0 for padding. A row whose mask is all zero has *no video*: every
conditioner then leaves that row exactly as the frozen backbone computes it. That is how video-condition
dropout and the null rows of classifier-free guidance are expressed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from toolkit.errors import UserError

MASK = "mask"


def read_feature(features: Mapping[str, Any], key: str) -> Any:
    """`features["clip"]["global"]` for key "clip.global" (a flat "clip.global" entry works too)."""
    if key in features:
        return features[key]
    node: Any = features
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            have = sorted(k for k in features if k != MASK)
            raise UserError(f"features: missing {key!r} (the batch has {have}); is its extractor enabled?")
        node = node[part]
    return node


def video_mask(features: Mapping[str, Any], batch: int, frames: int, device: torch.device | None = None):
    """The `(B, T)` float frame mask (all ones when the batch has none)."""
    mask = features.get(MASK)
    if mask is None:
        return torch.ones(batch, frames, device=device)
    mask = torch.as_tensor(mask, device=device).float()
    if mask.shape != (batch, frames):
        raise ValueError(f"features mask has shape {tuple(mask.shape)}, expected {(batch, frames)}")
    return mask


def _map_tensors(features: Mapping[str, Any], fn) -> dict[str, Any]:
    return {
        k: _map_tensors(v, fn) if isinstance(v, Mapping) else fn(torch.as_tensor(v))
        for k, v in features.items()
    }


def _batch_and_frames(features: Mapping[str, Any]) -> tuple[int, int]:
    for value in features.values():
        if isinstance(value, Mapping):
            return _batch_and_frames(value)
        value = torch.as_tensor(value)
        return value.shape[0], value.shape[1]
    raise ValueError("features: empty batch")


def drop_video(features: Mapping[str, Any], drop: torch.Tensor) -> dict[str, Any]:
    """A copy of the batch whose rows where `drop` (B,) is true have no video (mask all zero)."""
    batch, frames = _batch_and_frames({k: v for k, v in features.items() if k != MASK})
    mask = video_mask(features, batch, frames)
    keep = (~torch.as_tensor(drop, dtype=torch.bool, device=mask.device)).float()
    return {**features, MASK: mask * keep[:, None]}


def stack_with_null_video(features: Mapping[str, Any]) -> dict[str, Any]:
    """Rows followed by the same rows without video: the layout guidance uses (cf. `text.stack_with_null`)."""
    batch, frames = _batch_and_frames({k: v for k, v in features.items() if k != MASK})
    mask = video_mask(features, batch, frames)
    stacked = _map_tensors({k: v for k, v in features.items() if k != MASK}, lambda t: torch.cat([t, t]))
    stacked[MASK] = torch.cat([mask, torch.zeros_like(mask)])
    return stacked


def collate_features(clips: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    """Per-clip features (arrays with time first, at one frame rate) → a padded batch with its `mask`.

    Only `keys` (dotted, e.g. those an `AttachedModel` declares) are kept; the mask follows the first key's
    length. Shorter clips are zero-padded at the end.
    """
    if not clips or not keys:
        raise ValueError("collate_features needs at least one clip and one key")
    out: dict[str, Any] = {}
    lengths = None
    for key in keys:
        arrays = [torch.as_tensor(read_feature(clip, key)).float() for clip in clips]
        longest = max(a.shape[0] for a in arrays)
        padded = torch.zeros(len(arrays), longest, *arrays[0].shape[1:])
        for row, array in enumerate(arrays):
            padded[row, : array.shape[0]] = array
        if lengths is None:
            lengths = torch.tensor([a.shape[0] for a in arrays])
            out[MASK] = (torch.arange(longest)[None] < lengths[:, None]).float()
        head, _, leaf = key.rpartition(".")
        node = out
        for part in head.split(".") if head else ():
            node = node.setdefault(part, {})
        node[leaf] = padded
    return out
