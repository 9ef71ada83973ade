"""Loc-DiT: a small diffusion transformer over the continuous codec latents of one patch.

Its sequence is the previous patch's latents (the history; learned "no history" rows for the first patch)
followed by the noisy latents of the current patch, to which the per-frame plan is added through a
zero-initialised projection. Every block is adaLN-style FiLM: a parameter-free LayerNorm, then a scale and
shift predicted from the timestep by one zero-initialised layer for all blocks at once (identity at
initialisation, as `toolkit.conditioners.hooks.film.FiLM` is for a single point). The output projection starts
at zero too, as in DiT, so an untrained model predicts zero velocity.

Sampling calls the model once per Euler step per patch, so it is written for few operations per call: the
plan and history projections are computed once per patch (`condition`), the timestep modulation once per call
for all blocks, and attention is one fused projection plus `scaled_dot_product_attention`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from toolkit.conditioners.hooks.film import timestep_embedding
from toolkit.conditioners.init import zero_linear

PREDICTIONS = ("velocity", "data")  # what the network's output means (see `LocDiT`)
DATA_PREDICTION_MIN_GAP = 0.05  # bounds 1/(1 - t) near the data end when velocity is derived from data


@dataclass(frozen=True)
class PatchWhere:
    """Where each Loc-DiT row's patch lies, for `diffusion` hooks that read per-clip, per-time conditions:
    `rows (N,)` its row in the conditioned feature batch, `start (N,)` its first frame's time in seconds from the
    crop's (training) or the window's (generation) start, `seconds` a patch's length."""

    rows: torch.Tensor
    start: torch.Tensor
    seconds: float

    def repeat(self, copies: int) -> PatchWhere:
        return PatchWhere(self.rows.repeat(copies), self.start.repeat(copies), self.seconds)


class DiTBlock(nn.Module):
    """Pre-norm self-attention and MLP, each input scaled and shifted by the timestep modulation."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.up = nn.Linear(width, 4 * width)
        self.down = nn.Linear(4 * width, width)

    def forward(self, h: torch.Tensor, modulation: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """`modulation`: (1 + scale, shift) for attention, then for the MLP, each `(N or 1, 1, W)`."""
        gain1, shift1, gain2, shift2 = modulation
        n, length, width = h.shape
        # F.linear rather than module calls: sampling runs this block thousands of times per clip
        x = torch.addcmul(shift1, F.layer_norm(h, (width,)), gain1)
        q, k, v = F.linear(x, self.qkv.weight, self.qkv.bias).view(n, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(n, length, width)
        h = h + F.linear(attended, self.proj.weight, self.proj.bias)
        x = torch.addcmul(shift2, F.layer_norm(h, (width,)), gain2)
        return h + F.linear(F.gelu(F.linear(x, self.up.weight, self.up.bias)), self.down.weight, self.down.bias)


class LocDiT(nn.Module):
    """Velocity model `v(x_t, t | plan, history)` for one patch: `x (N, P, C)` noisy latents at flow time
    `t (N,)` in [0, 1], `plan (N, P, D)`, `history (N, P, C)` with `has_history (N,)` (rows without one read the
    learned no-history rows). Returns the velocity `(N, P, C)`. `prediction="data"` makes the network predict the
    clean latents and derives the velocity `(x̂ - x_t) / (1 - t)` from them (x-prediction with the velocity loss,
    which small denoisers of high-dimensional data often learn faster); `"velocity"` predicts it directly."""

    def __init__(
        self,
        latent_dim: int,
        plan_dim: int,
        width: int = 128,
        layers: int = 2,
        heads: int = 4,
        max_patch: int = 64,
        prediction: str = "velocity",
    ) -> None:
        super().__init__()
        if prediction not in PREDICTIONS:
            raise ValueError(f"Loc-DiT prediction must be one of {PREDICTIONS}, got {prediction!r}")
        self.prediction = prediction
        self.width, self.max_patch = width, max_patch
        self.x_in = nn.Linear(latent_dim, width)
        self.history_in = nn.Linear(latent_dim, width)
        self.plan_in = zero_linear(plan_dim, width)  # the plan's influence starts at zero and is learned
        self.no_history = nn.Parameter(torch.randn(max_patch, width) * 0.02)
        self.position = nn.Parameter(torch.randn(2 * max_patch, width) * 0.02)
        self.time = nn.Sequential(nn.Linear(width, width), nn.SiLU())
        self.modulation = zero_linear(width, (4 * layers + 2) * width)  # FiLM for every block and the output
        self.blocks = nn.ModuleList(DiTBlock(width, heads) for _ in range(layers))
        self.out = zero_linear(width, latent_dim)
        # `(index, hidden, t, condition) → hidden`, run after each block: the `diffusion` hook point; `condition` is
        # `(history tokens, plan projection, PatchWhere or None)`
        self.block_hooks: list = []

    def condition(
        self, plan: torch.Tensor, history: torch.Tensor, has_history: torch.Tensor, where: PatchWhere | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, PatchWhere | None]:
        """What does not change between Euler steps: the history tokens, the plan's projection, and where each
        row's patch lies (for hooks)."""
        patch = plan.shape[1]
        if patch > self.max_patch or history.shape[1] != patch:
            raise ValueError(f"Loc-DiT: patch of {patch} frames (history {history.shape[1]}), max {self.max_patch}")
        past = torch.where(has_history[:, None, None], self.history_in(history), self.no_history[:patch])
        return past + self.position[:patch], self.plan_in(plan) + self.position[patch : 2 * patch], where

    def modulations(self, t: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
        """Per block `(1 + scale, shift, 1 + scale, shift)`, then the output's `(1 + scale, shift)`, each
        `(N, 1, W)`, for flow times `t (N,)`. Sampling computes them once for its whole Euler schedule."""
        mods = self.modulation(self.time(timestep_embedding(t * 1000.0, self.width).to(self.position.dtype)))
        parts = list(mods[:, None].chunk(4 * len(self.blocks) + 2, dim=-1))
        parts[0::2] = [scale + 1 for scale in parts[0::2]]
        blocks = [tuple(parts[4 * i : 4 * i + 4]) for i in range(len(self.blocks))]
        return [*blocks, tuple(parts[-2:])]

    def velocity(
        self,
        x: torch.Tensor,
        t: torch.Tensor | None,
        condition: tuple[torch.Tensor, torch.Tensor, PatchWhere | None],
        modulations: list[tuple[torch.Tensor, ...]] | None = None,
    ) -> torch.Tensor:
        """The velocity at `x`, `t` under a precomputed `condition` (and `modulations` of `t`, if given)."""
        past, plan = condition[0], condition[1]
        patch = x.shape[1]
        mods = modulations if modulations is not None else self.modulations(t)
        h = torch.cat([past, F.linear(x, self.x_in.weight, self.x_in.bias) + plan], dim=1)
        for index, (block, modulation) in enumerate(zip(self.blocks, mods, strict=False)):
            h = block(h, modulation)
            for hook in self.block_hooks:
                h = hook(index, h, t, condition)
        gain, shift = mods[-1]
        out = self.out(torch.addcmul(shift, F.layer_norm(h[:, patch:], (self.width,)), gain))
        if self.prediction == "velocity":
            return out
        # the network predicts the clean latents; the straight path's velocity follows from them
        return (out - x) / (1 - t).clamp(min=DATA_PREDICTION_MIN_GAP).view(-1, 1, 1)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        plan: torch.Tensor,
        history: torch.Tensor,
        has_history: torch.Tensor,
    ) -> torch.Tensor:
        return self.velocity(x, t, self.condition(plan, history, has_history))
