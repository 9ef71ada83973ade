"""The CLIP extractor: tiny-random is deterministic and offline; local directories round-trip exactly."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from toolkit.errors import UserError
from toolkit.features import clip as clip_module
from toolkit.features.registry import get_extractor


@pytest.fixture
def frames(frames_of):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, size=(1, 60, 80, 3))
    # Frames 0 and 1 identical; 2 a shifted copy; 3 unrelated noise.
    array = np.concatenate([base, base, np.roll(base, 20, axis=2), rng.integers(0, 256, size=(1, 60, 80, 3))])
    return frames_of(array)


def test_shapes_and_cls_token_dropped(frames):
    out = get_extractor("clip")(frames)
    # 224 / patch 32 = 7 → 49 patch tokens of hidden size 32; projection to 32.
    assert out["global"].shape == (4, 32) and out["local"].shape == (4, 49, 32)
    assert out["global"].dtype == out["local"].dtype == np.float32
    assert np.isfinite(out["local"]).all()


def test_tiny_random_is_deterministic_and_leaves_the_global_rng_alone(frames):
    first = get_extractor("clip")(frames)
    clip_module._load.cache_clear()  # force a fresh model
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    second = get_extractor("clip")(frames)
    assert torch.equal(torch.random.get_rng_state(), state)
    for k in first:
        np.testing.assert_array_equal(first[k], second[k])
    # A different seed is a different model.
    other = get_extractor("clip", seed=1)(frames)
    assert not np.allclose(other["global"], first["global"])


def test_different_frames_give_different_features(frames):
    out = get_extractor("clip")(frames)
    np.testing.assert_array_equal(out["local"][0], out["local"][1])
    for i, j in [(0, 2), (0, 3), (2, 3)]:
        assert not np.allclose(out["local"][i], out["local"][j], atol=1e-3)
        assert not np.allclose(out["global"][i], out["global"][j], atol=1e-3)


def test_batch_size_does_not_change_the_output(frames):
    whole = get_extractor("clip", batch_size=32)(frames)
    pieces = get_extractor("clip", batch_size=3)(frames)
    np.testing.assert_allclose(whole["local"], pieces["local"], atol=1e-5)
    assert get_extractor("clip", batch_size=3).config() == get_extractor("clip", batch_size=32).config()


@pytest.mark.slow  # a fresh interpreter importing torch and transformers: 5-10 s on a busy 2-core machine
def test_tiny_random_weights_match_across_processes():
    code = textwrap.dedent(
        """
        import json, torch
        from toolkit.features.clip import _load
        model, _ = _load("tiny-random", 224, 0, None, "cpu")
        print(json.dumps({k: float(v.double().sum()) for k, v in model.state_dict().items()}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    model, _ = clip_module._load("tiny-random", 224, 0, None, "cpu")
    ours = {k: float(v.double().sum()) for k, v in model.state_dict().items()}
    assert ours == theirs


def test_local_directory_round_trips_and_its_content_is_the_key(frames, tmp_path):
    model, processor = clip_module._load("tiny-random", 224, 0, None, "cpu")
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    local = get_extractor("clip", model=str(tmp_path))
    np.testing.assert_array_equal(local(frames)["global"], get_extractor("clip")(frames)["global"])

    key_before = local.config()
    with open(tmp_path / "config.json") as f:
        cfg = json.load(f)
    cfg["layer_norm_eps"] = 1e-6
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    assert get_extractor("clip", model=str(tmp_path)).config() != key_before


def test_hub_ids_are_keyed_by_id_and_revision():
    a = get_extractor("clip", model="openai/clip-vit-base-patch32").config()
    b = get_extractor("clip", model="openai/clip-vit-base-patch32", revision="abc").config()
    assert a != b and "openai/clip-vit-base-patch32" in json.dumps(a)


def test_unloadable_model_is_a_user_error(frames, tmp_path):
    with pytest.raises(UserError, match="not a saved CLIP model"):
        get_extractor("clip", model=str(tmp_path))
    with pytest.raises(UserError, match="clip model 'no-such-org/no-such-clip': cannot load"):
        get_extractor("clip", model="no-such-org/no-such-clip")(frames)


def test_random_weights_are_announced(frames, caplog):
    clip_module._load.cache_clear()
    with caplog.at_level("WARNING", logger="toolkit.features.clip"):
        get_extractor("clip")(frames)
        get_extractor("clip")(frames)
    notes = [r for r in caplog.records if "no semantics" in r.getMessage()]
    assert len(notes) == 1
