"""What an extractor output is in time, and the one function per kind that collates and retimes it.

Every output an extractor writes is declared as a `Feature`:

- `frames`: one row per video frame, at the pipeline's `fps` (`clip.global`, `interframe.distance`);
- `series`: one row per audio frame at its own `rate` in Hz (`rhythm.odf` at 50 Hz);
- `events`: a variable number of times in seconds (`shots.boundaries`);
- `segments`: one row per shot or section, columns 0 and 1 its start and duration in seconds, then any others;
- `clip`: one value per clip, not in time.

`categorical` outputs (shot ids) hold integers and are never interpolated. Training crops, collation, generation
windows and evaluation all go through `collate` and `retime` here, so a feature is cut the same way everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from toolkit.features.resample import hold_last

KINDS = ("frames", "series", "events", "segments", "clip")
TIMED = ("frames", "series")  # kinds with one row per time step


@dataclass(frozen=True)
class Feature:
    """How one output is laid out: its `kind` (`KINDS`), its `rate` in Hz (`series` only: `frames` run at the
    video's fps), and whether it is `categorical` (integer labels, looked up rather than interpolated)."""

    kind: str = "frames"
    rate: float | None = None
    categorical: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"feature kind must be one of {KINDS}, got {self.kind!r}")
        if (self.kind == "series") != (self.rate is not None):
            raise ValueError("a rate is given exactly for `series` features (frames run at the video's fps)")
        if self.rate is not None and not self.rate > 0:
            raise ValueError(f"feature rate must be positive, got {self.rate}")

    def rate_at(self, fps: float) -> float:
        """Rows per second of a timed feature (`fps` for frames)."""
        return float(self.rate if self.kind == "series" else fps)

    @property
    def dtype(self) -> torch.dtype:
        return torch.long if self.categorical else torch.float32


FRAMES = Feature("frames")
CLIP = Feature("clip")


def collate(feature: Feature, arrays: Sequence[np.ndarray | torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-clip values → `(batch (B, N, ...), mask)`: rows (time steps, events, segments) padded at the end with
    zeros, `mask (B, N)` 1 on real rows; per-clip values stack with `mask (B,)` of ones."""
    tensors = [torch.as_tensor(np.asarray(a)).to(feature.dtype) for a in arrays]
    if feature.kind == "clip":
        return torch.stack(tensors), torch.ones(len(tensors))
    longest = max(t.shape[0] for t in tensors)
    out = torch.zeros(len(tensors), longest, *tensors[0].shape[1:], dtype=feature.dtype)
    mask = torch.zeros(len(tensors), longest)
    for row, tensor in enumerate(tensors):
        out[row, : tensor.shape[0]] = tensor
        mask[row, : tensor.shape[0]] = 1
    return out, mask


def steps(seconds: float, rate: float) -> int:
    """Rows a window of `seconds` holds at `rate`: every step inside it plus one, so interpolating at its end
    has a right neighbour."""
    return math.ceil(seconds * rate - 1e-9) + 1


def retime(
    feature: Feature,
    value: torch.Tensor,
    mask: torch.Tensor,
    start: torch.Tensor | float,
    seconds: float,
    fps: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batched feature re-timed so that time 0 is `start` seconds (one per row, or one for all), covering
    `seconds`: what a training crop or a generation window reads. Returns the value and its mask.

    Timed kinds are read at `start·rate + k` for `k < steps(seconds, rate)`: linearly interpolated (padding holds
    the last real row), or the row on screen at that time when categorical; a step is real when that row is.
    Events and segments keep their rows, shifted to the window's clock; rows outside the window are masked (a
    segment overlapping its start keeps a negative start). Per-clip values are unchanged."""
    if feature.kind == "clip":
        return value, mask
    rows = value.shape[0]
    start = torch.as_tensor(start, dtype=torch.float64, device=value.device).reshape(-1).expand(rows)
    if feature.kind == "events":
        times = value.double() - start[:, None]
        inside = (times >= 0) & (times < seconds)
        return times.to(value.dtype), mask * inside.to(mask.dtype)
    if feature.kind == "segments":
        shifted = value.clone()
        shifted[..., 0] = (value[..., 0].double() - start[:, None]).to(value.dtype)
        begin, end = shifted[..., 0], shifted[..., 0] + shifted[..., 1]
        inside = (end > 0) & (begin < seconds)
        return shifted, mask * inside.to(mask.dtype)
    rate = feature.rate_at(fps)
    positions = start[:, None] * rate + torch.arange(steps(seconds, rate), device=value.device, dtype=torch.float64)
    on_screen = positions.floor().long()  # the row shown at each step (row f shows from f/rate to (f+1)/rate)
    length = value.shape[1]
    exists = (on_screen >= 0) & (on_screen < length)
    index = on_screen.clamp(0, max(length - 1, 0))
    new_mask = mask.gather(1, index) * exists.to(mask.dtype)
    if feature.categorical:
        return _take(value, index), new_mask
    held = hold_last(value, mask)
    frac = (positions - index.double()).clamp(0, 1)
    upper = (index + 1).clamp(max=max(length - 1, 0))
    frac = frac.reshape(*frac.shape, *([1] * (value.dim() - 2))).to(value.dtype)
    lower_value, upper_value = _take(held, index), _take(held, upper)
    # where `frac` is 0 (whole-frame positions) the lower row comes through bit for bit
    return torch.where(frac == 0, lower_value, lower_value * (1 - frac) + upper_value * frac), new_mask


def _take(value: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """`value[b, index[b, s]]` for every row `b` and step `s`."""
    expanded = index.reshape(*index.shape, *([1] * (value.dim() - 2))).expand(*index.shape, *value.shape[2:])
    return value.gather(1, expanded)
