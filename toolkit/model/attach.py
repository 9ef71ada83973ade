"""Assemble the model from config dicts: a frozen backbone, conditioners attached to it, a generative head; run it
conditioned on a batch of features."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from toolkit.conditioners.base import Conditioner
from toolkit.conditioners.registry import build_conditioner, conditioner_class
from toolkit.errors import UserError
from toolkit.features.batch import FeatureBatch, as_batch
from toolkit.heads.base import Head, MusicCrop
from toolkit.heads.registry import build_head


class AttachedModel(nn.Module):
    """A frozen backbone with conditioners attached and a generative head: the trainable part of an experiment.

    `conditioners` (a `ModuleDict` keyed by spec name, `name_2` for a repeat) and `head` hold every trainable
    weight; the backbone is held outside the module tree. Use `conditioned(features)` around any decoder or
    head call, `loss(crop, features)` for the training objective."""

    def __init__(self, backbone: Any, conditioners: Mapping[str, Conditioner], head: Head | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "backbone", backbone)
        self.conditioners = nn.ModuleDict(dict(conditioners))
        self.head = head if head is not None else build_head(None, backbone)
        if self.head.name in self.conditioners:
            raise UserError(f"conditioners: {self.head.name!r} is the head's name; rename the conditioner entry")

    @property
    def input_keys(self) -> list[str]:
        """Feature keys the conditioners read at training and generation (derived from video and text)."""
        return _union(c.inputs for c in self.conditioners.values())

    @property
    def target_keys(self) -> list[str]:
        """Music-derived feature keys the conditioners train against (training batches only)."""
        return _union(c.targets for c in self.conditioners.values())

    @property
    def feature_keys(self) -> list[str]:
        """Every key a training batch must hold: inputs, then targets."""
        return _union([self.input_keys, self.target_keys])

    @property
    def parts(self) -> dict[str, nn.Module]:
        """Every trainable part by name: the conditioners, and the head under its name."""
        return {**dict(self.conditioners.items()), self.head.name: self.head}

    # --- conditioning ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def conditioned(
        self, features: Mapping[str, Any] | FeatureBatch | None, training: bool = False
    ) -> Iterator[AttachedModel]:
        """Within the block, decoder and head passes are conditioned on `features` (a `FeatureBatch`, or a
        nested dict of video-frame tensors; rows matching the decoder batch; `None` when only feature-free
        adapters such as LoRA are attached). Each conditioner sees its own `inputs`, and its `targets` only when
        `training`; outside training a target is withheld and reading it raises. For sampling with guidance pass
        `features.with_null_rows()`: the null text rows then carry no video either."""
        needed = [n for n, c in self.conditioners.items() if c.inputs or (training and c.targets)]
        if needed and not features:
            raise UserError(f"conditioners {needed} need video features; the batch has none")
        batch = as_batch(features) if features else None
        try:
            for conditioner in self.conditioners.values():
                if conditioner.inputs or conditioner.targets:
                    own = list(conditioner.inputs) + (list(conditioner.targets) if training else [])
                    view = batch.select(own, withheld=() if training else conditioner.targets)
                    conditioner.prepare(view.for_training(training))
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

    def losses(self, crop: MusicCrop, features: Mapping[str, Any] | None = None) -> dict[str, torch.Tensor]:
        """The head's objective (`"head"`) and every conditioner's auxiliary losses (`"<entry>.<name>"`) on a
        batch, with the conditioners prepared for training (targets available)."""
        with self.conditioned(features, training=True):
            out = {"head": self.head.loss(self, crop)}
            for entry, conditioner in self.conditioners.items():
                out.update({f"{entry}.{name}": value for name, value in conditioner.auxiliary_losses().items()})
        return out

    def loss(self, crop: MusicCrop, features: Mapping[str, Any] | None = None,
             weights: Mapping[str, float] | None = None) -> torch.Tensor:
        """The training objective: the head's loss plus each auxiliary loss times its weight (default 1)."""
        parts = self.losses(crop, features)
        return weighted_total(parts, weights)

    def set_progress(self, step: int, total: int) -> None:
        """Tell every conditioner where training stands (scheduled inputs, gradient stops)."""
        for conditioner in self.conditioners.values():
            conditioner.set_progress(step, total)

    # --- parameters and checkpoints ----------------------------------------------------------------------
    def stage_names(self) -> list[str]:
        """What a training stage may name: every part, and `<part>.<group>` for its parameter groups."""
        names = list(self.parts)
        for entry, conditioner in self.conditioners.items():
            names += [f"{entry}.{group}" for group in conditioner.parameter_groups()]
        return names

    def trainable_parameters(self, names: Sequence[str] | None = None) -> list[nn.Parameter]:
        """Trainable parameters of the parts (or `<part>.<group>`s) in `names` (one training stage), or of all."""
        unknown = sorted(set(names or ()) - set(self.stage_names()))
        if unknown:
            raise UserError(f"no attached part named {unknown}; attached: {self.stage_names()}")
        picked: list[nn.Parameter] = []
        for name, part in self.parts.items():
            if names is None or name in names:
                picked += [p for p in part.parameters() if p.requires_grad]
            elif isinstance(part, Conditioner):
                for group, params in part.parameter_groups().items():
                    if f"{name}.{group}" in names:
                        picked += [p for p in params if p.requires_grad]
        return list({id(p): p for p in picked}.values())

    def num_trainable(self) -> dict[str, int]:
        """Trainable parameter count per part (the head only when it has parameters)."""
        counts = {name: sum(p.numel() for p in part.parameters() if p.requires_grad)
                  for name, part in self.parts.items()}
        return {name: n for name, n in counts.items() if n or name in self.conditioners}

    def adapter_state_dict(self) -> dict[str, torch.Tensor]:
        """Trained weights only, keyed `<part>.<key>` (LoRA under peft's key names; the head under its name)."""
        state = {}
        for name, part in self.parts.items():
            own = getattr(part, "adapter_state_dict", part.state_dict)()
            state.update({f"{name}.{k}": v for k, v in own.items()})
        return state

    def load_adapter_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load what `adapter_state_dict` returned; every part with weights must have its entries."""
        for name, part in self.parts.items():
            own = {k.removeprefix(f"{name}."): v for k, v in state.items() if k.startswith(f"{name}.")}
            if not own and (part.state_dict() if part is self.head else part.num_trainable()):
                raise UserError(f"checkpoint has no weights for {name!r}")
            loader = getattr(part, "load_adapter_state_dict", None)
            if loader is not None:
                loader(own)
            elif own or part is not self.head:
                part.load_state_dict(own)

    # --- lifecycle ---------------------------------------------------------------------------------------
    def detach(self) -> None:
        """Remove every hook and adapter from the backbone and head (last attached first): as loaded again."""
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


def attach(
    backbone: Any, specs: Sequence[Mapping[str, Any]], fps: float | None = None, head: Mapping[str, Any] | None = None
) -> AttachedModel:
    """Build the head (`{"name": "plan_refine", ...}`; None: `tokens`) and the conditioners from config dicts
    (`{"name": "rhythm", "block_size": 4, ...}`), attach them in order and return the `AttachedModel`. `fps` (the
    video features' frame rate) is passed to conditioners that take it unless their spec sets it. Parts are
    created on the backbone's device; on error nothing stays attached."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(specs, ListConfig | DictConfig):
        specs = OmegaConf.to_container(specs, resolve=True)
    if isinstance(head, DictConfig):
        head = OmegaConf.to_container(head, resolve=True)
    built_head = build_head(head, backbone).eval()
    built: dict[str, Conditioner] = {}
    try:
        for key, spec in zip(entry_names(specs), specs, strict=True):
            kwargs = {k: v for k, v in spec.items() if k != "name"}
            name = str(spec["name"])
            takes_fps = "fps" in inspect.signature(conditioner_class(name)).parameters
            if fps is not None and takes_fps and "fps" not in kwargs:
                kwargs["fps"] = fps
            conditioner = build_conditioner(name, backbone, **kwargs).to(backbone.device)
            object.__setattr__(conditioner, "head", built_head)
            conditioner.eval()
            conditioner.attach()
            built[key] = conditioner
    except BaseException:
        for conditioner in reversed(list(built.values())):
            conditioner.detach()
        raise
    return AttachedModel(backbone, built, built_head).eval()


def weighted_total(parts: Mapping[str, torch.Tensor], weights: Mapping[str, float] | None = None) -> torch.Tensor:
    """`parts["head"]` plus every other part times its weight in `weights` (default 1); a weight naming no
    part is a `UserError` listing the parts (a misspelt weight must not silently do nothing)."""
    weights = dict(weights or {})
    unknown = sorted(set(weights) - set(parts) - {"head"})
    if unknown:
        raise UserError(f"train.loss_weights: no loss named {unknown}; the losses are {sorted(parts)}")
    total = parts["head"] * float(weights.get("head", 1.0))
    for name, value in parts.items():
        if name != "head":
            total = total + float(weights.get(name, 1.0)) * value
    return total


def _union(groups: Any) -> list[str]:
    out: list[str] = []
    for group in groups:
        out += [k for k in group if k not in out]
    return out
