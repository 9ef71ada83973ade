"""Conditioners: trainable adapters that read cached video features and attach to the frozen backbone at a
declared hook point. One file per conditioner, registered by name; `attach` builds them from config dicts."""

from toolkit.conditioners.attach import AttachedModel, attach
from toolkit.conditioners.base import HOOK_POINTS, Conditioner
from toolkit.conditioners.batch import collate_features, drop_video, read_feature, stack_with_null_video
from toolkit.conditioners.registry import (
    available_conditioners,
    build_conditioner,
    conditioner_class,
    register_conditioner,
)

__all__ = [
    "HOOK_POINTS",
    "AttachedModel",
    "Conditioner",
    "attach",
    "available_conditioners",
    "build_conditioner",
    "collate_features",
    "conditioner_class",
    "drop_video",
    "read_feature",
    "register_conditioner",
    "stack_with_null_video",
]
