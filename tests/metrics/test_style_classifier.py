"""The offline style classifier behind KL/IS: learns separable synthetic styles, cached by world + settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from toolkit.errors import UserError
from toolkit.metrics import classifier as classifier_module
from toolkit.metrics.classifier import (
    StyleCnnSettings,
    load_classifier,
    micro_style_classifier,
    train_style_classifier,
)

SR = 16000
FAST = StyleCnnSettings(steps=40, batch_size=12, crop_s=0.5)


def synthetic_style(kind: str, rng: np.random.Generator, seconds: float = 2.0) -> np.ndarray:
    """Three 'styles' a spectrogram CNN must tell apart: low hum, high whistle, gated noise."""
    t = np.arange(int(SR * seconds)) / SR
    if kind == "low":
        return (0.5 * np.sin(2 * np.pi * rng.uniform(150, 250) * t)).astype(np.float32)
    if kind == "high":
        return (0.5 * np.sin(2 * np.pi * rng.uniform(2500, 3500) * t)).astype(np.float32)
    return (rng.normal(0, 0.3, t.size) * (np.sin(2 * np.pi * 4 * t) > 0)).astype(np.float32)


KINDS = ("high", "low", "noise")  # sorted: the classifier's class order


@pytest.mark.slow
def test_learns_separable_synthetic_styles(rng):
    audios = [synthetic_style(k, rng) for k in KINDS for _ in range(6)]
    labels = [k for k in KINDS for _ in range(6)]
    model = train_style_classifier(audios, labels, FAST)
    assert model.classes == list(KINDS)
    assert model.val_accuracy == 1.0
    fresh = [synthetic_style(k, rng, seconds=3.0) for k in KINDS]
    probs = model.predict_proba(fresh)
    assert probs.shape == (3, 3) and np.allclose(probs.sum(axis=1), 1.0)
    assert probs.argmax(axis=1).tolist() == [0, 1, 2]


def test_needs_two_classes(rng):
    with pytest.raises(UserError, match="at least 2 classes"):
        train_style_classifier([synthetic_style("low", rng)] * 3, ["low"] * 3, FAST)


def write_world(folder, rng, per_style: int = 3):
    (folder / "clips").mkdir(parents=True)
    lines = []
    for kind in KINDS:
        for i in range(per_style):
            name = f"{kind}_{i}"
            sf.write(folder / "clips" / f"{name}.wav", synthetic_style(kind, rng), SR)
            lines.append(json.dumps({"id": name, "audio": f"clips/{name}.wav", "style": kind}))
    (folder / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.slow
def test_world_classifier_is_cached_by_manifest_and_settings(tmp_path, rng, monkeypatch, private_cache):
    world = write_world(tmp_path / "world", rng)
    first = micro_style_classifier(world, FAST)
    cached = [p for p in (private_cache / "classifiers").iterdir() if p.suffix != ".lock"]
    assert len(cached) == 1 and (cached[0] / "card.json").is_file()

    def no_training(*args, **kwargs):
        raise AssertionError("trained again although a cached classifier exists")

    monkeypatch.setattr(classifier_module, "train_style_classifier", no_training)
    again = micro_style_classifier(world, FAST)
    probe = [synthetic_style(k, rng) for k in KINDS]
    assert np.allclose(first.predict_proba(probe), again.predict_proba(probe))
    assert again.name == "micro-style-cnn"
    with pytest.raises(AssertionError, match="trained again"):
        micro_style_classifier(world, StyleCnnSettings(steps=41, batch_size=12, crop_s=0.5))


def test_clear_errors_without_a_world_or_weights(tmp_path):
    with pytest.raises(UserError, match="needs a world"):
        load_classifier("micro-style-cnn")
    with pytest.raises(UserError, match="no manifest.jsonl"):
        load_classifier("micro-style-cnn", world=tmp_path)
    with pytest.raises(UserError, match="needs local weights"):
        load_classifier("panns-cnn14")
    with pytest.raises(UserError, match="unknown classifier"):
        load_classifier("passt")
