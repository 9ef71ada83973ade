"""A tiny random MusicGen saved to disk once per module: tests load it exactly as they would a hub model."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    from tests.tiny_backbone import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny-musicgen") / "model")


@pytest.fixture
def tiny(tiny_dir):
    import torch

    from toolkit.backbone import load_backbone

    torch.manual_seed(0)
    return load_backbone(str(tiny_dir))
