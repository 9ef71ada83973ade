"""Shot boundaries on frames with constructed cuts, and VeM's per-frame position/duration encodings."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.features.registry import get_extractor


def moving_square(background, n, rng, size=(36, 48)):
    """`n` frames of a flat background with a small square drifting across it, plus pixel noise."""
    frames = np.empty((n, *size, 3), dtype=np.uint8)
    for t in range(n):
        frame = np.full((*size, 3), background, dtype=np.int16) + rng.integers(-6, 7, size=(*size, 3))
        x = 2 + 3 * t % (size[1] - 10)
        frame[10:18, x : x + 8] = 255 - np.asarray(background)
        frames[t] = np.clip(frame, 0, 255)
    return frames


@pytest.fixture
def three_shots():
    rng = np.random.default_rng(0)
    lengths = [10, 7, 15]
    array = np.concatenate(
        [moving_square(c, n, rng) for c, n in zip([(200, 40, 40), (40, 160, 60), (30, 40, 190)], lengths, strict=True)]
    )
    return array, lengths


def test_boundaries_exactly_at_constructed_cuts(frames_of, three_shots):
    array, lengths = three_shots
    out = get_extractor("shots")(frames_of(array, fps=8.0))
    np.testing.assert_array_equal(out["boundaries"], [10 / 8, 17 / 8])
    np.testing.assert_allclose(out["segments"], [[0, 10 / 8], [10 / 8, 7 / 8], [17 / 8, 15 / 8]], rtol=1e-6)
    assert out["index"].tolist() == [0] * 10 + [1] * 7 + [2] * 15
    np.testing.assert_allclose(out["duration"], np.repeat(np.array(lengths) / 8, lengths), rtol=1e-6)
    expected_position = np.concatenate([np.arange(n) / n for n in lengths])
    np.testing.assert_allclose(out["position"], expected_position, rtol=1e-6)
    assert out["distance"][0] == 0 and out["distance"][[10, 17]].min() > 0.9
    assert np.delete(out["distance"], [10, 17]).max() < 0.35


def test_a_flash_is_not_a_cut(frames_of, three_shots, solid_frames):
    array, _ = three_shots
    array = array.copy()
    array[4] = solid_frames((255, 255, 255), 1)[0]  # one white frame on a beat
    out = get_extractor("shots")(frames_of(array))
    np.testing.assert_array_equal(out["boundaries"], [10 / 8, 17 / 8])
    with_flashes_as_cuts = get_extractor("shots", flash_frames=0)(frames_of(array))
    np.testing.assert_array_equal(with_flashes_as_cuts["boundaries"], [4 / 8, 5 / 8, 10 / 8, 17 / 8])


def test_a_flash_on_the_first_frame_of_a_shot_is_one_cut(frames_of, three_shots):
    array, _ = three_shots
    array = array.copy()
    array[10] = np.clip(array[10].astype(int) + 90, 0, 255)  # the cut frame itself flashes brighter
    out = get_extractor("shots")(frames_of(array))
    np.testing.assert_array_equal(out["boundaries"], [10 / 8, 17 / 8])
    assert out["distance"][11] > 0.4  # the flash's decay alone would pass for a cut


def test_threshold_bins_and_min_shot_length(frames_of, solid_frames):
    # Greys 90 and 120 fall in different bins at 8 per channel (32 wide) but in one bin at 2 per channel.
    # The second cut changes only the top half of the picture: a histogram distance of exactly 0.5.
    second = solid_frames((120, 120, 120), 6)
    third = second.copy()
    third[:, :18] = (250, 20, 20)
    frames = frames_of(np.concatenate([solid_frames((90, 90, 90), 6), second, third]), fps=4.0)
    np.testing.assert_array_equal(get_extractor("shots")(frames)["boundaries"], [1.5, 3.0])
    np.testing.assert_array_equal(get_extractor("shots", threshold=0.6)(frames)["boundaries"], [1.5])
    np.testing.assert_array_equal(get_extractor("shots", bins=2)(frames)["boundaries"], [3.0])
    np.testing.assert_array_equal(get_extractor("shots", min_shot_seconds=2.0)(frames)["boundaries"], [3.0])


def test_one_shot_video(frames_of, solid_frames):
    out = get_extractor("shots")(frames_of(solid_frames((10, 20, 30), 5), fps=5.0))
    assert len(out["boundaries"]) == 0 and out["index"].tolist() == [0] * 5
    np.testing.assert_allclose(out["duration"], 1.0)
    np.testing.assert_allclose(out["position"], [0, 0.2, 0.4, 0.6, 0.8], rtol=1e-6)
