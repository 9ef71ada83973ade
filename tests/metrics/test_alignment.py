"""The optional audio–visual alignment hook: cosine scoring with any joint model; clear errors without one."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from toolkit.errors import UserError
from toolkit.metrics.alignment import alignment_scores, cosine, load_alignment_model


class TwoDimensionalModel:
    """A stand-in joint space: videos named 'up*' embed to (0, 1), others to (1, 0); audio by its sign."""

    name = "toy"

    def embed_video(self, video):
        return np.array([0.0, 1.0]) if str(video).startswith("up") else np.array([1.0, 0.0])

    def embed_audio(self, audio, sample_rate):
        return np.array([0.0, 1.0]) if audio.mean() > 0 else np.array([1.0, 0.0])


def test_alignment_scores_are_per_pair_cosines():
    scores = alignment_scores(TwoDimensionalModel(), ["up.mp4", "flat.mp4"], [np.ones(4), np.ones(4)], 16000)
    assert scores.tolist() == pytest.approx([1.0, 0.0])
    assert cosine(np.array([1.0, 1.0]), np.array([-1.0, -1.0])) == pytest.approx(-1.0)


def test_alignment_models_need_weights(tmp_path):
    with pytest.raises(UserError, match="needs a local checkpoint"):
        load_alignment_model("imagebind", None)
    with pytest.raises(UserError, match="needs a local checkpoint"):
        load_alignment_model("imagebind", tmp_path / "missing.pth")
    with pytest.raises(UserError, match="unknown alignment model"):
        load_alignment_model("clip", tmp_path)


def test_imagebind_without_its_package_says_so(tmp_path):
    if importlib.util.find_spec("imagebind") is not None:
        pytest.skip("imagebind is installed here")
    weights = tmp_path / "imagebind_huge.pth"
    weights.write_bytes(b"not used")
    with pytest.raises(UserError, match="optional 'imagebind' package"):
        load_alignment_model("imagebind", weights)


def test_the_suite_scores_imagebind_per_clip_with_the_videos(tmp_path, monkeypatch):
    """`imagebind_score[imagebind]` in the suite: the joint model's cosine of each clip's video and generated
    music (a stand-in model here; real weights load through `load_alignment_model`)."""
    from pathlib import Path

    import soundfile as sf

    import toolkit.metrics.catalog.alignment_scores as catalog
    from toolkit.metrics.annotations import Annotations
    from toolkit.metrics.options import SuiteOptions
    from toolkit.metrics.suite import Pair, evaluate_pairs

    class ByName(TwoDimensionalModel):
        def embed_video(self, video):
            return super().embed_video(Path(video).name)

    monkeypatch.setattr(catalog, "load_alignment_model", lambda name, weights: ByName())
    pairs = []
    for clip, sign in (("up1", 1.0), ("up2", -1.0), ("flat", -1.0)):
        sf.write(tmp_path / f"{clip}.wav", np.full(22050, 0.1 * sign, np.float32), 22050)
        pairs.append(Pair(clip, tmp_path / f"{clip}.wav", tmp_path / f"{clip}.wav"))
    notes = Annotations(videos={c: tmp_path / f"{c}.mp4" for c in ("up1", "up2", "flat")})
    options = SuiteOptions(imagebind_weights=str(tmp_path / "imagebind.pth"), bootstrap_resamples=20)
    result = evaluate_pairs(pairs, options, notes, report=lambda m: None, only=["imagebind_score"])
    assert result["per_clip"]["imagebind_score[imagebind]"] == pytest.approx({"up1": 1.0, "up2": 0.0, "flat": 1.0})
    assert result["metrics"]["imagebind_score[imagebind]"]["value"] == pytest.approx(2 / 3)
