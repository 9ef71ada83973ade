"""The `conditioners` list and the `lora` section of an experiment.

`conditioners` is a list of flat dicts, one per conditioner: `name` (a registered conditioner) plus its
kwargs, e.g. `{name: rhythm, block_size: 4, coverage: 1.0}`. Each conditioner checks its own kwargs when
built, so a new conditioner needs no schema change. The lead composes these into the experiment schema as

    conditioners: list[dict[str, Any]] = field(default_factory=list)
    lora: LoraSection = field(default_factory=LoraSection)

and `adapter_specs(cfg)` turns both into the spec list `toolkit.model.attach` takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoraSection:
    """peft LoRA on the frozen backbone (off by default). `attention`: "self" and/or "cross" decoder
    attention; `projections`: among q_proj, k_proj, v_proj, out_proj; `layers`: decoder layer indices (null:
    all). `text_encoder`: also adapt the text encoder (VidMusician's T5 LoRA), with its own rank and alpha
    when they are set.
    """

    enabled: bool = False
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    attention: list[str] = field(default_factory=lambda: ["self", "cross"])
    projections: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "out_proj"])
    layers: list[int] | None = None  # null: every decoder layer
    text_encoder: bool = False
    text_encoder_rank: int | None = None
    text_encoder_alpha: float | None = None

    def to_spec(self) -> dict[str, Any] | None:
        """The `{"name": "lora", ...}` spec, or None when LoRA is off."""
        if not self.enabled:
            return None
        spec = {k: v for k, v in vars(self).items() if k not in ("enabled", "layers")}
        spec["layers"] = "all" if self.layers is None else list(self.layers)
        spec["attention"], spec["projections"] = list(self.attention), list(self.projections)
        return {"name": "lora", **spec}


def adapter_specs(cfg: Any) -> list[dict[str, Any]]:
    """`cfg.conditioners` (plain dicts), then the LoRA spec when `cfg.lora.enabled`; accepts OmegaConf."""
    from omegaconf import OmegaConf

    conditioners = cfg.conditioners
    if OmegaConf.is_config(conditioners):
        conditioners = OmegaConf.to_container(conditioners, resolve=True)
    lora = cfg.lora
    if OmegaConf.is_config(lora):
        lora = LoraSection(**OmegaConf.to_container(lora, resolve=True))
    specs = [dict(spec) for spec in conditioners or []]
    lora_spec = lora.to_spec() if lora is not None else None
    return specs + ([lora_spec] if lora_spec else [])
