"""Frozen text-to-music backbones: MusicGen by hub id, local directory or the toolkit's own `micro` model."""

from toolkit.backbone.frozen import Backbone, freeze
from toolkit.backbone.loader import load_backbone

__all__ = ["Backbone", "freeze", "load_backbone"]
