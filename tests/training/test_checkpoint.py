"""Checkpoints: adapters only (LoRA in peft's format), identical outputs on reload, atomic writes."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from toolkit.model.attach import attach
from toolkit.training.checkpoint import load_checkpoint, save_checkpoint

from .helpers import FPS, SPECS, make_clips


def _perturbed(backbone):
    torch.manual_seed(0)
    attached = attach(backbone, SPECS, fps=FPS)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in attached.trainable_parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.3)
    return attached


def _logits(attached):
    from toolkit.features.batch import collate_features

    clips = make_clips(2)
    features = collate_features([c.features for c in clips], attached.feature_keys)
    codes = torch.stack([c.codes[:, :40] for c in clips])
    memory, mask = attached.backbone.encode_text(["a", "b c"])
    with torch.no_grad():
        return attached(codes, memory, mask, features).logits


def test_reload_gives_identical_outputs_and_holds_no_backbone_weights(backbone, tiny_model, tmp_path):
    from safetensors.torch import load_file

    from toolkit.backbone.frozen import Backbone

    attached = _perturbed(backbone)
    expected = _logits(attached)
    path = save_checkpoint(tmp_path / "run" / "checkpoint", attached, {"name": "x", "seed": 3}, 7,
                           extra={"stage": "all"})
    stored = load_file(str(path / "adapters.safetensors"))
    assert stored and all(k.split(".")[0] in ("semantic", "rhythm") for k in stored)
    lora = json.loads((path / "lora" / "adapter_config.json").read_text())
    assert lora["r"] == 2 and lora["peft_type"] == "LORA"
    lora_keys = load_file(str(path / "lora" / "adapter_model.safetensors"))
    assert lora_keys and all(k.startswith("base_model.model.") and "lora_" in k for k in lora_keys)
    backbone_params = sum(p.numel() for p in tiny_model[0].parameters())
    saved = sum(v.numel() for v in stored.values()) + sum(v.numel() for v in lora_keys.values())
    assert saved == sum(attached.num_trainable().values()) < backbone_params / 10

    checkpoint = load_checkpoint(path)
    assert checkpoint.step == 7 and checkpoint.state["stage"] == "all" and checkpoint.config.seed == 3
    fresh = attach(Backbone(copy.deepcopy(tiny_model[0]), tiny_model[1]), SPECS, fps=FPS)
    assert not torch.equal(_logits(fresh), expected)
    checkpoint.load_into(fresh)
    assert torch.equal(_logits(fresh), expected)


def test_a_failed_write_keeps_the_previous_checkpoint(backbone, tmp_path, monkeypatch):
    import toolkit.training.checkpoint as module

    attached = _perturbed(backbone)
    path = save_checkpoint(tmp_path / "checkpoint", attached, {"name": "x"}, 1)
    before = sorted(p.name for p in tmp_path.iterdir())

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(module.json, "dumps", broken)
    with pytest.raises(OSError):
        save_checkpoint(path, attached, {"name": "x"}, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary folder left behind
    assert json.loads((path / "state.json").read_text())["step"] == 1


def test_missing_or_foreign_folders_are_user_errors(tmp_path):
    from toolkit.errors import UserError
    from toolkit.training.run import find_checkpoint

    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no checkpoint in this folder"):
        find_checkpoint(tmp_path / "empty")
    with pytest.raises(UserError, match="neither a run folder nor an MLflow run id"):
        find_checkpoint("not-a-run")


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_checkpoint_files_get_the_usual_mode(backbone, tmp_path, umask):
    import os
    import stat

    attached = _perturbed(backbone)
    previous = os.umask(umask)
    try:
        path = save_checkpoint(tmp_path / "checkpoint", attached, {"name": "x"}, 1)
    finally:
        os.umask(previous)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"adapters.safetensors", "adapter_model.safetensors", "state.json"}
    assert {p.relative_to(path).as_posix(): oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {
        p.relative_to(path).as_posix(): oct(0o666 & ~umask) for p in files}  # safetensors alone wrote 0600
    assert all(stat.S_IMODE(d.stat().st_mode) == 0o777 & ~umask for d in [path, *path.rglob("*")] if d.is_dir())
