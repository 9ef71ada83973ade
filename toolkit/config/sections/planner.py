"""The `planner` section: Video-Robin's plan-and-refine generation (off by default).

When `enabled`, the `plan_refine` head (FSQ + RITE + Loc-DiT, `toolkit.conditioners.plan_refine`) is attached
after the listed conditioners and LoRA, which then adapt the planner; training optimises the flow-matching
loss and generation goes patch by patch instead of token by token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class PlannerSection:
    """Plan-and-refine settings: `patch_size` codec frames per patch; `fsq_levels` ("8,5,5,5"-style, or "off"
    for a continuous bottleneck); the plan width; RITE and Loc-DiT sizes; Euler steps when sampling (guidance
    is `backbone.guidance`); flow-matching draws per patch in training."""

    enabled: bool = False
    patch_size: int = 16
    fsq_levels: str = "8,5,5,5"
    plan_dim: int = 64
    rite_layers: int = 2
    rite_heads: int = 4
    dit_width: int = 128
    dit_layers: int = 2
    dit_heads: int = 4
    euler_steps: int = 20
    noise_samples: int = 4  # noisy copies of each patch per training step (one planner pass serves them all)
    prediction: str = "velocity"  # Loc-DiT predicts the velocity, or the clean latents ("data")

    def to_spec(self) -> dict[str, Any] | None:
        """The `{"name": "plan_refine", ...}` spec, or None when plan-and-refine is off."""
        if not self.enabled:
            return None
        return {"name": "plan_refine", **{k: v for k, v in vars(self).items() if k != "enabled"}}
