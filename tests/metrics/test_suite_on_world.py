"""The suite on a tiny micro world: the style classifier learns the world's styles, a set scores perfectly
against itself, and cuts detected in the videos agree with the manifest's."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.config.sections.evaluation import EvalConfig
from toolkit.metrics import classifier as classifier_module
from toolkit.metrics.classifier import StyleCnnSettings
from toolkit.metrics.suite import evaluate_dirs

SETTINGS = StyleCnnSettings(steps=80, batch_size=16, crop_s=1.0, val_fraction=0.0)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from toolkit.data.world import build_world

    return build_world(tmp_path_factory.mktemp("w") / "world", clips=12, seconds=2.0, workers=1, progress=False)


@pytest.mark.slow
def test_suite_on_a_tiny_world(world, monkeypatch):
    import json

    from toolkit.data.audio import read_audio

    records = [json.loads(line) for line in (world / "manifest.jsonl").read_text().splitlines()]
    model = classifier_module.micro_style_classifier(world, SETTINGS)
    audios = [read_audio(world / r["audio"], model.sample_rate) for r in records]
    predicted = np.array(model.classes)[model.predict_proba(audios).argmax(axis=1)]
    accuracy = np.mean(predicted == np.array([r["style"] for r in records]))
    assert accuracy >= 0.75  # chance is 1/6; the world's styles differ in timbre and register

    original = classifier_module.micro_style_classifier
    monkeypatch.setattr(classifier_module, "micro_style_classifier", lambda w: original(w, SETTINGS))
    messages: list[str] = []
    config = EvalConfig(bootstrap_resamples=50)
    clips = world / "clips"
    result = evaluate_dirs(clips, clips, options=config, report=messages.append)
    value = {name: entry["value"] for name, entry in result["metrics"].items()}
    # audiocraft's KL adds 1e-6 to the generated side, so identical predictions score in [-n_classes·1e-6, 0].
    assert value["fad[mel-stats]"] == pytest.approx(0.0, abs=1e-6)
    assert value["kl[micro-style-cnn]"] == pytest.approx(0.0, abs=1e-5)
    assert value["bhs[1s]"] == value["bcs[1s]"] == value["bhs[0.2s]"] == value["coverage[mel-stats,k5]"] == 1.0
    assert value["style_acc[micro-style-cnn]"] >= 0.75  # the world's own music, in its true styles
    assert result["n_pairs"] == 12 and result["metrics"]["tb_iou[0.1s]"]["n"] == 12
    assert result["n_unmatched"] == result["n_unreadable"] == 0
    assert result["sources"]["targets"].endswith("prompts.jsonl")
    assert any(m.startswith("rtf: skipped") for m in messages)


@pytest.mark.slow
def test_cuts_detected_in_world_videos_match_the_manifest(world):
    import json

    from toolkit.metrics.rhythm import video_transitions

    for line in (world / "manifest.jsonl").read_text().splitlines()[:6]:
        record = json.loads(line)
        detected = video_transitions(world / record["video"])
        assert len(detected) == len(record["cuts"])
        assert np.allclose(detected, record["cuts"], atol=1.5 / 24)  # within a frame and a half at 24 fps


def test_read_annotations_takes_cuts_from_videos_when_given(world):
    from toolkit.metrics.suite import read_annotations

    clips = world / "clips"
    messages: list[str] = []
    notes = read_annotations(clips, clips, clips, ["clip_00000", "clip_00001", "nope"], messages.append)
    assert set(notes.cuts) == {"clip_00000", "clip_00001"} and notes.cuts_source.startswith("shot detection")
    assert any("'nope'" in m for m in messages)
    manifest_notes = read_annotations(clips, clips, None, ["clip_00000"])
    assert manifest_notes.cuts_source.endswith("manifest.jsonl")
    assert np.allclose(notes.cuts["clip_00000"], manifest_notes.cuts["clip_00000"], atol=1.5 / 24)
    assert manifest_notes.targets["clip_00000"]["tempo"] > 0
