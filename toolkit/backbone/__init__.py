"""Frozen text-to-music backbones: MusicGen by hub id or local directory, and the micro model's architecture
(built and cached by `toolkit.micro`)."""

from toolkit.backbone.frozen import Backbone, freeze
from toolkit.backbone.loader import load_backbone

__all__ = ["Backbone", "freeze", "load_backbone"]
