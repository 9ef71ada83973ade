"""The experiment schema: the sections every experiment file is checked against."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from toolkit.config.sections.backbone import BackboneConfig
from toolkit.config.sections.conditioners import LoraSection
from toolkit.config.sections.data import DataConfig
from toolkit.config.sections.evaluation import EvalConfig
from toolkit.config.sections.features import FeaturesConfig
from toolkit.config.sections.head import DEFAULT_HEAD
from toolkit.config.sections.train import TrainConfig


@dataclass
class ExperimentConfig:
    """One experiment: data, features, backbone, conditioners (+ LoRA), the generative head, evaluation."""

    name: str = "experiment"
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    evaluation: EvalConfig = field(default_factory=EvalConfig)
    conditioners: list[dict[str, Any]] = field(default_factory=list)  # `{name: ..., **kwargs}` per conditioner
    lora: LoraSection = field(default_factory=LoraSection)
    head: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_HEAD))  # `{name: ..., **kwargs}`
    train: TrainConfig = field(default_factory=TrainConfig)
