"""Video-side emotion inputs: colour statistics with known answers, and a user's valence/arousal model."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.errors import UserError
from toolkit.features.registry import get_extractor


def test_colour_mood_separates_vivid_from_washed_out_and_bright_from_dark(frames_of, solid_frames):
    vivid, grey, dark = solid_frames((220, 40, 40), 2), solid_frames((128, 128, 128), 2), solid_frames((40, 8, 8), 2)
    out = get_extractor("colour_mood", bins=4)(frames_of(np.concatenate([vivid, grey, dark])))["features"]
    assert out.shape == (6, 4**3 + 4)
    np.testing.assert_allclose(out[:, :64].sum(1), 1.0, rtol=1e-6)  # the histogram part
    saturation, value = out[:, 64], out[:, 66]
    # Rows 0-1 vivid red, 2-3 grey, 4-5 dark red: saturation (max - min) / max, value max / 255.
    assert saturation[0] == pytest.approx(180 / 220, abs=1e-3) and saturation[2] == 0.0
    assert saturation[4] == pytest.approx(32 / 40, abs=1e-3)
    assert value[0] == pytest.approx(220 / 255, abs=1e-3) and value[2] == pytest.approx(128 / 255, abs=1e-3)
    assert value[4] == pytest.approx(40 / 255, abs=1e-3)
    assert np.abs(out[:, [65, 67]]).max() < 1e-6  # flat frames: no spread


def fake_model(frames: np.ndarray, fps: float) -> np.ndarray:
    """Valence from brightness, arousal from the frame index: a stand-in a test can predict."""
    return np.stack([frames.mean(axis=(1, 2, 3)) / 255.0, np.arange(len(frames)) / fps], axis=1)


def wrong_shape(frames: np.ndarray, fps: float) -> np.ndarray:
    return np.zeros((len(frames), 3))


def test_valence_arousal_calls_the_named_model(frames_of, solid_frames):
    frames = frames_of(np.concatenate([solid_frames((255, 255, 255), 2), solid_frames((0, 0, 0), 2)]), fps=4.0)
    out = get_extractor("valence_arousal", model=f"{__name__}:fake_model")(frames)["va"]
    np.testing.assert_allclose(out, [[1, 0], [1, 0.25], [0, 0.5], [0, 0.75]])


def test_valence_arousal_without_a_model_or_with_a_bad_one_is_one_clear_error(frames_of, solid_frames):
    with pytest.raises(UserError, match="package.module:function"):
        get_extractor("valence_arousal")
    with pytest.raises(UserError, match="cannot load"):
        get_extractor("valence_arousal", model="no_such_module:f")(frames_of(solid_frames((0, 0, 0), 1)))
    with pytest.raises(UserError, match=r"expected \(1, 2\)"):
        get_extractor("valence_arousal", model=f"{__name__}:wrong_shape")(frames_of(solid_frames((0, 0, 0), 1)))
