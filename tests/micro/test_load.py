"""`toolkit.micro.load_backbone` loads every backbone name; the backbone layer below never builds `micro`."""

from __future__ import annotations

import pytest

from toolkit.errors import UserError


def test_the_backbone_layer_refuses_to_build_micro():
    from toolkit.backbone.loader import load_backbone

    with pytest.raises(ValueError, match="toolkit.micro.load_backbone"):
        load_backbone("micro")


def test_other_names_are_deferred_to_the_backbone_loader(tmp_path):
    from tests.tiny_backbone import build_tiny
    from toolkit.micro import load_backbone

    folder = build_tiny(tmp_path / "tiny", seed=3)
    assert load_backbone(str(folder)).source == str(folder)
    with pytest.raises(UserError, match="apply only to 'micro'"):
        load_backbone(str(folder), seed=1)
