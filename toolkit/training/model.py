"""The experiment's trainable model: its frozen backbone with the configured conditioners attached."""

from __future__ import annotations

from typing import Any

import torch

from toolkit.config.sections.conditioners import adapter_specs
from toolkit.config.sections.head import head_spec
from toolkit.model.attach import attach


def load_experiment_backbone(cfg: Any) -> Any:
    """The frozen backbone named by `cfg.backbone` (the micro backbone with its pretraining seed)."""
    from toolkit.micro import load_backbone

    options = {"seed": int(cfg.backbone.micro_seed)} if cfg.backbone.name == "micro" else {}
    return load_backbone(cfg.backbone.name, device=cfg.backbone.device, **options)


def attach_adapters(cfg: Any, backbone: Any) -> Any:
    """Attach `cfg`'s head, conditioners (and LoRA) to `backbone`, with randomly initialised parts seeded by
    `cfg.seed`, so two runs of one config start from the same weights."""
    torch.manual_seed(int(cfg.seed))
    return attach(backbone, adapter_specs(cfg), fps=float(cfg.features.fps), head=head_spec(cfg))


def parameter_counts(attached: Any) -> dict[str, int]:
    """Trainable adapter parameters, the frozen backbone's, and their total (LoRA counted once)."""
    adapters = {id(p): p for part in attached.parts.values() for p in part.parameters()}
    frozen = [p for p in attached.backbone.model.parameters() if id(p) not in adapters]
    trainable = sum(p.numel() for p in adapters.values())
    backbone = sum(p.numel() for p in frozen)
    return {"params_trainable": trainable, "params_backbone": backbone, "params_total": trainable + backbone}
