"""The `Head` interface: what turns the conditioned frozen decoder into music.

A head says which music data it trains on (`music`: codec codes always, continuous latents for a diffusion
head), fits what it needs before training (`fit`, e.g. latent statistics), computes its training objective on a
batch of crops (`loss`), samples one generation window (`sample`) and turns a sampled window into audio
(`decode`). The trainer, the generation loop and the config know nothing more of it, so a new head is one file
and a `head:` section in the experiment.

A head with diffusion blocks exposes `block_hooks`: conditioners at the `diffusion` hook point add a function
`hook(index, hidden, t, context) → hidden` run after block `index`, where `t (N,)` is the diffusion time as a
value in [0, 1] (not a solver's step index) and `context` what the head conditions that block on (plan-and-refine:
history tokens, plan projection, and `PatchWhere`: each row's feature-batch row and patch start time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from toolkit.errors import UserError
from toolkit.utils.ranges import Range, check_ranges

BlockHook = Callable[[int, torch.Tensor, torch.Tensor, Any], torch.Tensor]


@dataclass
class MusicCrop:
    """One training batch's music, frame-aligned: codes `(B, K, T)` and, for heads that ask, `latents`
    `(B, C, T)`; the text memory and mask the decoder cross-attends to."""

    codes: torch.Tensor
    memory: torch.Tensor
    mask: torch.Tensor
    latents: torch.Tensor | None = None


class Head(nn.Module):
    """Base of generative heads (module docstring). Built as `cls(backbone, **kwargs)`; the kwargs are the
    `head:` config section without its `name`."""

    name: ClassVar[str]
    music: ClassVar[tuple[str, ...]] = ("codes",)  # per-clip music data it trains on: "codes", "latents"
    ranges: ClassVar[dict[str, Range]] = {}
    supports_block_hooks: ClassVar[bool] = False  # diffusion heads: conditioners may hook their blocks

    @classmethod
    def check_config(cls, kwargs: Mapping[str, Any], where: str) -> None:
        """Refuse kwargs that break the class's rules, without a backbone (config loading calls it)."""
        check_ranges(kwargs, cls.ranges, where)

    def __init__(self, backbone: Any) -> None:
        super().__init__()
        object.__setattr__(self, "backbone", backbone)  # not a submodule: its weights are not ours
        self.block_hooks: list[BlockHook] = []

    @property
    def reserved_frames(self) -> int:
        """Decoder positions a window must leave free for the head's own use (a planner's start patch)."""
        return 0

    def fit(self, music: Mapping[str, Sequence[torch.Tensor]]) -> None:
        """Before training, from every training clip's music data (`{kind: [(·, T) per clip]}`)."""

    def loss(self, model: Any, crop: MusicCrop) -> torch.Tensor:
        """The training objective on a batch, computed while `model` is conditioned on the batch's features."""
        raise NotImplementedError

    def sample(self, model: Any, memory: torch.Tensor, mask: torch.Tensor, frames: int, *,
               guidance: float | None, generator: torch.Generator, prompt: Mapping[str, torch.Tensor] | None,
               progress: bool, **options: Any) -> dict[str, torch.Tensor]:
        """One window of `frames` codec frames, sampled while `model` is conditioned: `{"codes": (B, K, T),
        ...}`. `prompt` holds the previous window's last frames of each of those tensors (a continuation);
        `options` are sampler settings the head may use (temperature, top_k)."""
        raise NotImplementedError

    def decode(self, window: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """A sampled window → audio `(B, n)`."""
        return self.backbone.decode_codes(window["codes"])

    def add_block_hook(self, hook: BlockHook) -> Any:
        """Run `hook` after every diffusion block; returns a handle whose `remove()` takes it off."""
        if not self.supports_block_hooks:
            raise UserError(f"head {self.name!r} has no diffusion blocks to hook (use a diffusion head)")
        self.block_hooks.append(hook)
        return _Handle(self.block_hooks, hook)


class _Handle:
    def __init__(self, hooks: list, hook: Any) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)
