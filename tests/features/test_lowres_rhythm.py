"""Diff-V2M's low-resolution rhythm targets on click tracks whose onsets are known."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from toolkit.errors import UserError
from toolkit.features.lowres_rhythm import bin_max, bin_mean, peak_odf
from toolkit.features.registry import get_extractor

SR = 32000


def test_the_odf_peaks_in_the_bins_of_the_clicks_and_nowhere_else():
    seconds, rate = 6.0, 8.0
    clicks = np.array([0.5, 1.25, 2.0, 3.125, 4.5, 5.25])  # each on a bin of 1/8 s
    audio = librosa.clicks(times=clicks, sr=SR, length=int(SR * seconds), click_freq=1500.0)
    out = get_extractor("lowres_rhythm", rate=rate, bins=16)((audio, SR))
    n = int(seconds * rate) + 1
    assert out["odf"].shape == (n,) and out["mel"].shape == (n, 16) and out["tempogram"].shape == (n, 16)
    strong = set(np.flatnonzero(out["odf"] > 1.0).tolist())
    expected = {int(round(c * rate)) for c in clicks}
    # The onset of a click may be detected one hop (16 ms) late: at most one bin later, never elsewhere.
    assert all(any(abs(s - e) <= 1 for e in expected) for s in strong), (strong, expected)
    assert all(any(abs(s - e) <= 1 for s in strong) for e in expected)
    assert np.all(out["odf"] >= 0)


def test_denser_clicks_raise_the_low_resolution_tempogram_at_shorter_lags():
    def tempogram(bpm: float) -> np.ndarray:
        times = np.arange(0.2, 7.8, 60.0 / bpm)
        audio = librosa.clicks(times=times, sr=SR, length=SR * 8, click_freq=1500.0)
        return get_extractor("lowres_rhythm", rate=4.0, bins=16)((audio, SR))["tempogram"].mean(0)

    slow, fast = tempogram(60), tempogram(180)
    assert np.argmax(fast[1:]) < np.argmax(slow[1:])  # lag 0 is always 1; the first peak after it moves in


def test_peak_picking_and_binning_known_answers():
    odf = np.array([0.0, 1.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0])
    picked = peak_odf(odf, prominence=0.05)
    assert np.flatnonzero(picked).tolist() == [1, 4] and picked[4] > picked[1] > 0
    assert bin_max(np.array([0.5, 2.0, 1.0, 0.2]), np.array([0, 0, 1, 3]), 4).tolist() == [2.0, 1.0, 0.0, 0.2]
    frames = np.arange(8, dtype=float).reshape(4, 2)  # 4 bands, 2 frames
    means = bin_mean(frames, np.array([0, 1]), 3, blocks=2)
    np.testing.assert_allclose(means, [[1.0, 5.0], [2.0, 6.0], [2.0, 6.0]])  # bin 2 empty: holds bin 1


def test_bad_settings_fail_before_any_audio():
    with pytest.raises(UserError, match="lowres_rhythm"):
        get_extractor("lowres_rhythm", rate=0)
    with pytest.raises(UserError, match="bins"):
        get_extractor("lowres_rhythm", bins=500)
