"""The plan hook point: a named slot where a planner leaves its per-patch plan for the head that refines it.

Planners (an AR model over FSQ latents, refined by RITE) write a `Plan`; heads (Loc-DiT) read it, per patch or
expanded to frames. Kept minimal on purpose: the planning issue fills in the producers and consumers."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Plan:
    """Plan latents `(B, P, D)`, one per patch of `patch_frames` backbone frames."""

    latents: torch.Tensor
    patch_frames: int

    def per_frame(self, num_frames: int) -> torch.Tensor:
        """`(B, num_frames, D)`: each patch's latent repeated over its frames (the last one held if short)."""
        frames = self.latents.repeat_interleave(self.patch_frames, dim=1)
        if frames.shape[1] < num_frames:
            tail = frames[:, -1:].expand(-1, num_frames - frames.shape[1], -1)
            frames = torch.cat([frames, tail], dim=1)
        return frames[:, :num_frames]


class PlanSlot:
    """Where a plan waits between the planner that writes it and the head that reads it."""

    def __init__(self, name: str = "plan") -> None:
        self.name = name
        self._plan: Plan | None = None

    def put(self, plan: Plan) -> None:
        if plan.latents.dim() != 3 or plan.patch_frames < 1:
            raise ValueError(f"{self.name}: a plan is (B, P, D) latents with patch_frames ≥ 1")
        self._plan = plan

    def get(self) -> Plan:
        if self._plan is None:
            raise RuntimeError(f"{self.name}: no plan has been written (run the planner first)")
        return self._plan

    def clear(self) -> None:
        self._plan = None

    @property
    def filled(self) -> bool:
        return self._plan is not None
