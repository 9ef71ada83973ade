"""The plan bottleneck: the planner's hidden states projected to the plan width, then squeezed through FSQ
(finite scalar quantisation, vector-quantize-pytorch) so the plan is semi-discrete, or left continuous."""

from __future__ import annotations

import torch
from torch import nn

from toolkit.errors import UserError


def parse_levels(levels: str | list[int] | tuple[int, ...] | None) -> tuple[int, ...] | None:
    """FSQ levels from config: "8,5,5,5" or a list → a tuple; "off" / None / "" → None (continuous). YAML 1.1
    reads an unquoted `off` as false, which reaches a string field as "False": that means off too."""
    if levels is None or levels is False:
        return None
    if isinstance(levels, str) and levels.strip().lower() in ("off", "none", "", "false"):
        return None
    try:
        parsed = tuple(int(v) for v in (levels.split(",") if isinstance(levels, str) else levels))
    except (TypeError, ValueError):
        raise UserError(
            f"head.plan_refine.fsq_levels: expected 'off' or comma-separated integers, got {levels!r}"
        ) from None
    if not parsed or any(v < 2 for v in parsed):
        raise UserError(f"head.plan_refine.fsq_levels: every level must be ≥ 2, got {levels!r}")
    return parsed


class PlanBottleneck(nn.Module):
    """Hidden states `(..., hidden)` → plan `(..., plan_dim)`: a linear projection, then FSQ with `levels`
    (FSQ projects to `len(levels)` dimensions, rounds with a straight-through gradient, and projects back), or
    nothing more when `levels` is None. `indices` (the FSQ code of each position) are None when continuous."""

    def __init__(self, hidden: int, plan_dim: int, levels: tuple[int, ...] | None) -> None:
        super().__init__()
        from vector_quantize_pytorch import FSQ

        self.levels = levels
        self.project = nn.Linear(hidden, plan_dim)
        self.fsq = FSQ(list(levels), dim=plan_dim) if levels else None

    @property
    def codebook_size(self) -> int | None:
        """How many distinct plan codes there are (None: continuous)."""
        return None if self.levels is None else int(torch.tensor(self.levels).prod())

    def forward(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        z = self.project(hidden)
        if self.fsq is None:
            return z, None
        shape = z.shape
        plan, indices = self.fsq(z.reshape(-1, 1, shape[-1]).float())  # FSQ wants (batch, seq, dim)
        return plan.reshape(shape).to(z.dtype), indices.reshape(shape[:-1])
