"""Attach conditioners to a frozen backbone from config dicts; run it conditioned on a batch of features."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from toolkit.conditioners.base import Conditioner
from toolkit.conditioners.registry import build_conditioner, conditioner_class
from toolkit.errors import UserError


class AttachedModel(nn.Module):
    """A frozen backbone with conditioners attached: the trainable part of an experiment.

    `conditioners` (a `ModuleDict` keyed by spec name, `name_2` for a repeat) holds every adapter weight; the
    backbone is held outside the module tree. Use `conditioned(features)` around any decoder call
    (teacher-forced or `sample_codes`), or call the model as `backbone.decoder_forward` plus `features`."""

    def __init__(self, backbone: Any, conditioners: Mapping[str, Conditioner]) -> None:
        super().__init__()
        object.__setattr__(self, "backbone", backbone)
        self.conditioners = nn.ModuleDict(dict(conditioners))

    @property
    def feature_keys(self) -> list[str]:
        """Dotted cached-feature keys the attached conditioners read (the batch must hold them)."""
        keys: list[str] = []
        for conditioner in self.conditioners.values():
            keys += [k for k in conditioner.features if k not in keys]
        return keys

    @property
    def plan_head(self) -> Conditioner | None:
        """The conditioner at the `plan` hook (plan-and-refine generation), if one is attached."""
        heads = [name for name, c in self.conditioners.items() if c.hook == "plan"]
        if len(heads) > 1:
            raise UserError(f"conditioners: at most one plan head may be attached, got {heads}")
        return self.conditioners[heads[0]] if heads else None

    # --- conditioning ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def conditioned(self, features: Mapping[str, Any] | None) -> Iterator[AttachedModel]:
        """Within the block, decoder passes are conditioned on `features` (batched `(B, T_video, ...)`, rows
        matching the decoder batch; `None` or `{}` when only feature-free adapters such as LoRA are attached).
        For `sample_codes` with guidance pass `stack_with_null_video(features)`: the sampler stacks null text
        rows under the prompts, and those rows then carry no video either.
        """
        needed = [n for n, c in self.conditioners.items() if c.features]
        if needed and not features:
            raise UserError(f"conditioners {needed} need video features; the batch has none")
        try:
            for conditioner in self.conditioners.values():
                if conditioner.features:
                    conditioner.prepare(features)
            yield self
        finally:
            for conditioner in self.conditioners.values():
                conditioner.release()

    def forward(
        self,
        codes: torch.Tensor,
        memory: torch.Tensor,
        mask: torch.Tensor,
        features: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ):
        """Teacher-forced decoder pass (`Backbone.decoder_forward`: `.loss`, `.logits`) under `features`."""
        with self.conditioned(features):
            return self.backbone.decoder_forward(codes, memory, mask, **kwargs)

    def loss(
        self,
        codes: torch.Tensor,
        memory: torch.Tensor,
        mask: torch.Tensor,
        features: Mapping[str, Any] | None = None,
        latents: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The training objective on a batch: the decoder's cross-entropy, or the plan head's own objective
        (flow matching on the codec `latents`) when one is attached."""
        head = self.plan_head
        if head is not None:
            return head.training_loss(self, codes, latents, memory, mask, features)
        return self(codes, memory, mask, features).loss

    # --- parameters and checkpoints ----------------------------------------------------------------------
    def trainable_parameters(self, names: Sequence[str] | None = None) -> list[nn.Parameter]:
        """Trainable adapter parameters, of the conditioners in `names` (one training stage) or of all."""
        unknown = sorted(set(names or ()) - set(self.conditioners))
        if unknown:
            raise UserError(f"no attached conditioner named {unknown}; attached: {sorted(self.conditioners)}")
        picked = [c for n, c in self.conditioners.items() if names is None or n in names]
        return [p for c in picked for p in c.trainable_parameters()]

    def num_trainable(self) -> dict[str, int]:
        """Trainable parameter count per conditioner."""
        return {name: c.num_trainable() for name, c in self.conditioners.items()}

    def adapter_state_dict(self) -> dict[str, torch.Tensor]:
        """Adapter weights only, keyed `<conditioner>.<key>` (LoRA under peft's key names)."""
        state = {}
        for name, conditioner in self.conditioners.items():
            own = getattr(conditioner, "adapter_state_dict", conditioner.state_dict)()
            state.update({f"{name}.{k}": v for k, v in own.items()})
        return state

    def load_adapter_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load what `adapter_state_dict` returned; every conditioner's entries must be present."""
        for name, conditioner in self.conditioners.items():
            own = {k.removeprefix(f"{name}."): v for k, v in state.items() if k.startswith(f"{name}.")}
            if not own and conditioner.num_trainable():
                raise UserError(f"checkpoint has no weights for conditioner {name!r}")
            loader = getattr(conditioner, "load_adapter_state_dict", None)
            if loader is not None:
                loader(own)
            else:
                conditioner.load_state_dict(own)

    # --- lifecycle ---------------------------------------------------------------------------------------
    def detach(self) -> None:
        """Remove every hook and adapter from the backbone (last attached first): it is as loaded again."""
        for conditioner in reversed(list(self.conditioners.values())):
            conditioner.detach()

    def train(self, mode: bool = True) -> AttachedModel:
        """Switch the adapters' mode; the frozen backbone stays in eval mode."""
        self.backbone.model.eval()  # first: LoRA's dropout lives inside the backbone and follows `mode`
        super().train(mode)
        return self


def entry_names(specs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The attached name of each spec: its `name`, or `name_2`, `name_3`... for repeats."""
    names, seen = [], {}
    for i, spec in enumerate(specs):
        if not isinstance(spec, Mapping) or "name" not in spec:
            raise UserError(f"conditioners[{i}]: each entry needs a `name` (got {spec!r})")
        base = str(spec["name"])
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return names


def attach(backbone: Any, specs: Sequence[Mapping[str, Any]], fps: float | None = None) -> AttachedModel:
    """Build conditioners from config dicts (`{"name": "rhythm", "block_size": 4, ...}`), attach them in order
    and return the `AttachedModel`. `fps` (the features' frame rate) is passed to conditioners that take it
    unless their spec sets it. Adapters are created on the backbone's device; on error nothing stays attached.
    """
    import inspect

    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(specs, ListConfig | DictConfig):
        specs = OmegaConf.to_container(specs, resolve=True)
    built: dict[str, Conditioner] = {}
    try:
        for key, spec in zip(entry_names(specs), specs, strict=True):
            kwargs = {k: v for k, v in spec.items() if k != "name"}
            name = str(spec["name"])
            takes_fps = "fps" in inspect.signature(conditioner_class(name)).parameters
            if fps is not None and takes_fps and "fps" not in kwargs:
                kwargs["fps"] = fps
            conditioner = build_conditioner(name, backbone, **kwargs).to(backbone.device)
            conditioner.eval()
            conditioner.attach()
            built[key] = conditioner
    except BaseException:
        for conditioner in reversed(list(built.values())):
            conditioner.detach()
        raise
    return AttachedModel(backbone, built).eval()
