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
