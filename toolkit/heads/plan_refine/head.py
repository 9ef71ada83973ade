"""Video-Robin's plan-and-refine head.

The planner is the frozen decoder itself, with the attached conditioners (LoRA, semantic, rhythm) and the text
it cross-attends to: `planner.py` reads its hidden states one patch behind. This head holds what turns those
states into music: the plan bottleneck (FSQ, or continuous when `fsq_levels: off`), RITE, and the Loc-DiT that
denoises each patch's continuous codec latents under the plan and the previous patch. It adds no hook to the
backbone, so choosing it changes no logit. Its objective is flow matching on the latents; its sampler goes
patch by patch (`sampling.py`). Loc-DiT's blocks are hook points for `diffusion` conditioners.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from toolkit.errors import UserError
from toolkit.heads.base import Head, MusicCrop
from toolkit.heads.plan_refine.bottleneck import PlanBottleneck, parse_levels
from toolkit.heads.plan_refine.flow import flow_matching_loss
from toolkit.heads.plan_refine.locdit import PREDICTIONS, LocDiT, PatchWhere
from toolkit.heads.plan_refine.planner import planner_hidden, shifted_input
from toolkit.heads.plan_refine.rite import RITE
from toolkit.heads.plan_refine.sampling import sample_patches
from toolkit.heads.registry import register_head
from toolkit.utils.ranges import Range

MAX_PATCH = 64


@register_head("plan_refine")
class PlanRefine(Head):
    """FSQ plan bottleneck + RITE + Loc-DiT over patches of `patch_size` codec frames (module docstring).

    `fsq_levels`: "8,5,5,5"-style levels or "off"; `plan_dim`: the plan's width; `rite_layers`/`rite_heads`;
    `dit_width`/`dit_layers`/`dit_heads`: Loc-DiT's size; `euler_steps`: sampling steps; `noise_samples`: noisy
    copies of each patch per training step (MAR's diffusion batch multiplier: one planner pass, several
    flow-matching draws, so the costly pass is used more); `prediction`: what Loc-DiT's output means ("velocity"
    or "data", see `LocDiT`)."""

    music = ("codes", "latents")
    supports_block_hooks = True
    ranges = {
        "patch_size": Range(1, MAX_PATCH),  # RITE and Loc-DiT hold positions for at most MAX_PATCH frames
        "plan_dim": Range(1, 4096),
        "rite_layers": Range(0, 64),
        "dit_width": Range(1, 8192),
        "dit_layers": Range(1, 64),
        "euler_steps": Range(1, 10000),
        "noise_samples": Range(1, 256),
    }

    @classmethod
    def check_config(cls, kwargs: Mapping[str, Any], where: str) -> None:
        """The ranges, widths divisible by their heads, a known `prediction` and parsable `fsq_levels`."""
        super().check_config(kwargs, where)
        defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items() if k != "backbone"}
        given = {**defaults, **kwargs}
        for width, heads in (("plan_dim", "rite_heads"), ("dit_width", "dit_heads")):
            w, h = given[width], given[heads]
            if not isinstance(h, int) or isinstance(h, bool) or h < 1 or w % h:
                raise UserError(f"{where}.{width}/{heads}: the width {w} must be a multiple of the heads {h}")
        if given["prediction"] not in PREDICTIONS:
            raise UserError(f"{where}.prediction: must be one of {PREDICTIONS}, got {given['prediction']!r}")
        parse_levels(given["fsq_levels"])

    def __init__(
        self,
        backbone: Any,
        patch_size: int = 16,
        fsq_levels: str | Sequence[int] = "8,5,5,5",
        plan_dim: int = 64,
        rite_layers: int = 2,
        rite_heads: int = 4,
        dit_width: int = 128,
        dit_layers: int = 2,
        dit_heads: int = 4,
        euler_steps: int = 20,
        noise_samples: int = 4,
        prediction: str = "velocity",
    ) -> None:
        super().__init__(backbone)
        self.check_config(dict(patch_size=patch_size, fsq_levels=fsq_levels, plan_dim=plan_dim,
                               rite_layers=rite_layers, rite_heads=rite_heads, dit_width=dit_width,
                               dit_layers=dit_layers, dit_heads=dit_heads, euler_steps=euler_steps,
                               noise_samples=noise_samples, prediction=prediction), "head.plan_refine")
        self.patch_size, self.euler_steps, self.noise_samples = int(patch_size), int(euler_steps), int(noise_samples)
        self.bottleneck = PlanBottleneck(backbone.hidden_size, plan_dim, parse_levels(fsq_levels))
        self.rite = RITE(plan_dim, rite_layers, rite_heads, MAX_PATCH)
        self.dit = LocDiT(backbone.latent_dim, plan_dim, dit_width, dit_layers, dit_heads, MAX_PATCH, prediction)
        # per-channel statistics of the codec latents (set from the training clips), so Loc-DiT sees unit scale
        self.register_buffer("latent_mean", torch.zeros(backbone.latent_dim))
        self.register_buffer("latent_std", torch.ones(backbone.latent_dim))
        self.dit.block_hooks = self.block_hooks  # one list: hooks added to the head run inside Loc-DiT

    @property
    def reserved_frames(self) -> int:
        """The planner reads a start patch before a window's frames, so its positions run a patch further."""
        return self.patch_size

    def fit(self, music: Mapping[str, Sequence[torch.Tensor]]) -> None:
        """Latent statistics from the training clips (a resumed run's checkpoint restores the same)."""
        self.fit_normalisation(music["latents"])

    # --- latents -----------------------------------------------------------------------------------------
    @torch.no_grad()
    def fit_normalisation(self, latents: Sequence[torch.Tensor]) -> None:
        """Per-channel mean and std over every frame of `latents` (each `(C, T)`)."""
        frames = torch.cat([torch.as_tensor(x, dtype=torch.float32).reshape(x.shape[0], -1) for x in latents], 1)
        self.latent_mean.copy_(frames.mean(1))
        self.latent_std.copy_(frames.std(1).clamp(min=1e-5))

    def normalise(self, latents: torch.Tensor) -> torch.Tensor:
        """Codec latents `(B, C, T)` → unit-scale frames `(B, T, C)`."""
        return ((latents.transpose(1, 2) - self.latent_mean) / self.latent_std).to(self.latent_std.dtype)

    def denormalise(self, frames: torch.Tensor) -> torch.Tensor:
        """Unit-scale frames `(B, T, C)` → codec latents `(B, C, T)`."""
        return (frames * self.latent_std + self.latent_mean).transpose(1, 2)

    # --- plan --------------------------------------------------------------------------------------------
    def plan(self, hidden: torch.Tensor) -> torch.Tensor:
        """Planner states of whole patches `(N, P, H)` → refined plans `(N, P, plan_dim)`."""
        quantised, _ = self.bottleneck(hidden)
        return self.rite(quantised)

    # --- training ----------------------------------------------------------------------------------------
    def loss(self, model: Any, crop: MusicCrop) -> torch.Tensor:
        """Flow-matching loss of every whole patch of a batch of crops: codes `(B, K, T)`, latents `(B, C, T)`.

        One teacher-forced planner pass (under the model's conditioners) gives every patch's plan; each patch is
        denoised with the true previous patch as history (none for the first). Frames after the last whole
        patch are not used."""
        codes, latents = crop.codes, crop.latents
        patch, total = self.patch_size, codes.shape[-1]
        count = total // patch
        if count < 1:
            raise UserError(f"head.plan_refine.patch_size={patch} is longer than the training crop ({total} frames)")
        if latents is None or latents.shape[-1] < count * patch:
            raise UserError("plan_refine: the training batch has no codec latents (load clips with latents)")
        used = count * patch
        batch = codes.shape[0]
        hidden, _ = planner_hidden(self.backbone, shifted_input(self.backbone, codes[..., :used], patch),
                                   crop.memory, crop.mask)
        plan = self.plan(hidden.reshape(batch * count, patch, -1))
        data = self.normalise(latents[..., :used].to(plan.device)).reshape(batch, count, patch, -1)
        history = torch.cat([torch.zeros_like(data[:, :1]), data[:, :-1]], dim=1).reshape(batch * count, patch, -1)
        has_history = (torch.arange(count, device=data.device) > 0).repeat(batch)
        copies = self.noise_samples
        data = data.reshape(batch * count, patch, -1).repeat(copies, 1, 1)
        frame_rate = float(self.backbone.frame_rate)
        where = PatchWhere(torch.arange(batch, device=data.device).repeat_interleave(count),
                           (torch.arange(count, device=data.device) * patch).repeat(batch) / frame_rate,
                           patch / frame_rate)
        past, planned, where = self.dit.condition(plan, history, has_history, where)
        condition = (past.repeat(copies, 1, 1), planned.repeat(copies, 1, 1), where.repeat(copies))
        # validation (eval mode) draws the same noise and times every time, so its loss is comparable
        generator = None if self.training else torch.Generator().manual_seed(0)
        return flow_matching_loss(lambda x, t: self.dit.velocity(x, t, condition), data, generator)

    # --- generation --------------------------------------------------------------------------------------
    def sample(self, model: Any, memory: torch.Tensor, mask: torch.Tensor, frames: int, *,
               guidance: float | None, generator: torch.Generator, prompt: Mapping[str, torch.Tensor] | None,
               progress: bool, **options: Any) -> dict[str, torch.Tensor]:
        """Patch by patch (`sampling.sample_patches`); `temperature` and `top_k` do not apply."""
        codes, latents = sample_patches(
            self, memory, mask, frames, guidance=guidance, generator=generator,
            prompt_codes=None if prompt is None else prompt["codes"],
            prompt_latents=None if prompt is None else prompt["latents"], progress=progress,
        )
        return {"codes": codes, "latents": latents}

    def decode(self, window: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.backbone.decode_latents(window["latents"])
