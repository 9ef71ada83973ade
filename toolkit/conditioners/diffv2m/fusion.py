"""Fusing the semantic (h_s) and rhythm (h_r) branches' contributions on a head without a diffusion time.

`average`: 0.5 h_s + 0.5 h_r. `gate`: α h_s + (1 − α) h_r with α = sigmoid(a), one learned scalar (Diff-V2M's
weighted fusion with its time input removed: the token-by-token head has no diffusion time). Both are linear in
the branch outputs, so with the branches' gates at zero the fused contribution is exactly zero. `TimeFusion`
holds the timestep-aware modes for a diffusion head (plan-and-refine's Loc-DiT).
"""

from __future__ import annotations

import torch
from torch import nn

from toolkit.conditioners.hooks.film import FiLM, timestep_embedding
from toolkit.conditioners.init import zero_linear

STATIC_MODES = ("average", "gate")


class StaticFusion(nn.Module):
    """`average` or a learned static `gate` between the semantic and rhythm branch outputs."""

    def __init__(self, mode: str = "average") -> None:
        super().__init__()
        if mode not in STATIC_MODES:
            raise ValueError(f"fusion must be one of {STATIC_MODES} on this head, got {mode!r}")
        self.mode = mode
        self.logit = nn.Parameter(torch.zeros(())) if mode == "gate" else None

    def weight(self) -> torch.Tensor:
        """α, the semantic branch's share."""
        return torch.sigmoid(self.logit) if self.logit is not None else torch.tensor(0.5)

    def forward(self, semantic: torch.Tensor, rhythm: torch.Tensor) -> torch.Tensor:
        alpha = self.weight().to(semantic.dtype)
        return alpha * semantic + (1 - alpha) * rhythm


TIMED_MODES = ("film", "film_select", "gate", "pre_film", "average")
SELECT_BELOW = 0.2  # film_select: the semantic term while Diff-V2M's time τ > 0.2, the rhythm term below


def _mlp(time_dim: int, width: int, out: int, zero: bool) -> nn.Sequential:
    last = zero_linear(width, out) if zero else nn.Linear(width, out)
    return nn.Sequential(nn.Linear(time_dim, width), nn.SiLU(), last)


class TimeFusion(nn.Module):
    """Diff-V2M's timestep-aware fusion of the semantic (h_s) and rhythm (h_r) branches on a diffusion head.

    τ is Diff-V2M's diffusion time (1 = noise); the toolkit's flow runs from noise at t = 0 to data at t = 1, so
    τ = 1 − t. Modes: `film` γ_s(τ)·h_s + β_s(τ) + γ_r(τ)·h_r + β_r(τ) (γ = sigmoid(MLP), β = MLP); `film_select`
    the same terms, the semantic one where τ > 0.2 and the rhythm one below (semantics drive the noisy steps,
    rhythm the last); `gate` α(τ)·h_s + (1 − α(τ))·h_r, α = sigmoid(MLP); `pre_film` FiLM of each branch's
    context tokens by τ before attention (`tokens`), then the average; `average` 0.5/0.5. The β MLPs and the
    token FiLM start at zero, so with the branches' gates at zero every mode adds exactly nothing at init.
    """

    def __init__(self, mode: str, width: int, time_dim: int = 64) -> None:
        super().__init__()
        if mode not in TIMED_MODES:
            raise ValueError(f"fusion must be one of {TIMED_MODES} on a diffusion head, got {mode!r}")
        self.mode, self.time_dim = mode, int(time_dim)
        hidden = max(width, 16)
        if mode in ("film", "film_select"):
            self.gamma = nn.ModuleDict({b: _mlp(time_dim, hidden, width, zero=False) for b in ("semantic", "rhythm")})
            self.beta = nn.ModuleDict({b: _mlp(time_dim, hidden, width, zero=True) for b in ("semantic", "rhythm")})
        elif mode == "gate":
            self.alpha = _mlp(time_dim, hidden, 1, zero=False)
        elif mode == "pre_film":
            self.token_film = nn.ModuleDict({b: FiLM(width, time_dim=time_dim) for b in ("semantic", "rhythm")})

    def _embed(self, t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return timestep_embedding((1 - t) * 1000.0, self.time_dim).to(dtype)

    def tokens(self, branch: str, tokens: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """A branch's context tokens `(N, L, W)` as its attention reads them (FiLM'd by τ in `pre_film`)."""
        if self.mode != "pre_film":
            return tokens
        return self.token_film[branch](tokens, (1 - t) * 1000.0)

    def forward(self, semantic: torch.Tensor, rhythm: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Branch outputs `(N, S, W)` at flow times `t (N,)` → their fused contribution."""
        if self.mode in ("average", "pre_film"):
            return 0.5 * semantic + 0.5 * rhythm
        emb = self._embed(t, semantic.dtype)
        if self.mode == "gate":
            alpha = torch.sigmoid(self.alpha(emb))[:, None]
            return alpha * semantic + (1 - alpha) * rhythm
        terms = {b: torch.sigmoid(self.gamma[b](emb))[:, None] * h + self.beta[b](emb)[:, None]
                 for b, h in (("semantic", semantic), ("rhythm", rhythm))}
        if self.mode == "film":
            return terms["semantic"] + terms["rhythm"]
        semantic_steps = ((1 - t) > SELECT_BELOW)[:, None, None]
        return torch.where(semantic_steps, terms["semantic"], terms["rhythm"])
