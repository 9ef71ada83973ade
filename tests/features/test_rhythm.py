"""Rhythm features on click tracks with known tempo and beat times."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from toolkit.errors import UserError
from toolkit.features.registry import get_extractor

SR = 32000


def click_track(bpm: float, seconds: float = 8.0, start: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    clicks = np.arange(start, seconds - 0.1, 60.0 / bpm)
    return librosa.clicks(times=clicks, sr=SR, length=int(SR * seconds), click_freq=1500.0), clicks


@pytest.mark.parametrize("bpm", [72, 100, 128, 140])
def test_tempo_and_beats_of_a_click_track(bpm):
    audio, clicks = click_track(bpm)
    out = get_extractor("rhythm")((audio, SR))
    assert float(out["tempo"]) == pytest.approx(bpm, rel=0.02)
    beats = out["beats"]
    error = np.abs(beats[:, None] - clicks[None, :]).min(axis=1)
    assert error.max() < 0.030, (beats, clicks)
    found = np.abs(clicks[:, None] - beats[None, :]).min(axis=1) < 0.030
    assert found.mean() >= 0.9


def test_frame_grid_odf_mel_and_tempogram():
    audio, clicks = click_track(100)
    ext = get_extractor("rhythm", frame_rate=50, n_mels=16, tempogram_bins=64)
    out = ext((audio, SR))
    n = 1 + len(audio) // ext.hop_length(SR)
    assert ext.hop_length(SR) == 640
    assert out["odf"].shape == out["times"].shape == (n,)
    assert out["mel"].shape == (n, 16) and out["tempogram"].shape == (n, 64)
    np.testing.assert_allclose(np.diff(out["times"]), 1 / 50)
    # The ODF peaks on the clicks: its strongest frames sit within two frames (40 ms) of a click.
    top = out["times"][np.argsort(out["odf"])[-len(clicks) :]]
    assert np.abs(top[:, None] - clicks[None, :]).min(axis=1).max() <= 0.04
    # The tempogram's strongest non-zero lag is the beat period (0.6 s = 30 frames at 50 Hz).
    mean_tempogram = out["tempogram"].mean(axis=0)
    assert np.argmax(mean_tempogram[1:]) + 1 == 30
    # Log-mel: louder frames (clicks) above the silence between them.
    on = np.zeros(n, dtype=bool)
    on[np.round(clicks * 50).astype(int)] = True
    assert out["mel"][on].mean() > out["mel"][~on].mean() + 10


def test_settings_are_the_cache_key():
    base = get_extractor("rhythm").config()
    assert get_extractor("rhythm", frame_rate=25).config() != base
    assert get_extractor("rhythm", n_mels=32).config() != base
    assert get_extractor("rhythm", frame_rate=50.0).config() == base


def test_short_and_bad_audio():
    out = get_extractor("rhythm")((np.zeros(SR // 10, dtype=np.float32), SR))
    assert len(out["beats"]) == 0 and np.isfinite(out["mel"]).all()
    with pytest.raises(UserError, match="mono audio"):
        get_extractor("rhythm")((np.zeros((2, 100)), SR))
    with pytest.raises(UserError, match=r"features.extractors.rhythm.frame_rate: must be in \(0, 1000\]"):
        get_extractor("rhythm", frame_rate=0)  # the class's ranges, checked before it is built
    with pytest.raises(UserError, match="frame rates"):
        get_extractor("rhythm", beat_frame_rate=0)  # no range for it: the constructor's own check
