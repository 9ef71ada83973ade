"""Conditioners: trainable adapters that read features of the video and text (inputs), may train against
features of the music (targets), and attach to the frozen backbone at a declared hook point. One file per
conditioner, registered by name; `toolkit.model.attach` builds them from config dicts."""

from toolkit.conditioners.base import HOOK_POINTS, Conditioner
from toolkit.conditioners.registry import (
    available_conditioners,
    build_conditioner,
    conditioner_class,
    register_conditioner,
)

__all__ = [
    "HOOK_POINTS",
    "Conditioner",
    "available_conditioners",
    "build_conditioner",
    "conditioner_class",
    "register_conditioner",
]
