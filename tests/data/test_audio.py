"""Audio reading: sibling files, a video's own track, resampling, mono mixing, and bad inputs."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

from toolkit.data.audio import AUDIO_SUFFIXES, load_music, read_audio, sibling_audio
from toolkit.data.mp4 import write_mp4
from toolkit.errors import UserError


def sine(freq: float, seconds: float, rate: int, amplitude: float = 0.4) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(round(seconds * rate)) / rate)).astype(np.float32)


def dominant_frequency(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1 / rate)[spectrum.argmax()])


def still_video(path: Path, seconds: float = 1.0, audio: np.ndarray | None = None, rate: int | None = None,
                ) -> Path:
    frames = np.full((round(seconds * 10), 48, 64, 3), 90, np.uint8)
    return write_mp4(path, frames, 10, audio=audio, sample_rate=rate)


def write_m4a(path: Path, audio: np.ndarray, rate: int) -> Path:
    """AAC in an MPEG-4 audio file, which libsndfile cannot read."""
    with av.open(str(path), mode="w", format="ipod") as container:
        stream = container.add_stream("aac", rate=rate, layout="mono")
        for start in range(0, len(audio), 1024):
            chunk = audio[None, start : start + 1024]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_sibling_wav_is_resampled_keeping_its_pitch_and_length(tmp_path: Path) -> None:
    video = still_video(tmp_path / "clip.mp4")
    soundfile.write(tmp_path / "clip.wav", sine(440, 1.5, 44100), 44100)
    assert sibling_audio(video) == tmp_path / "clip.wav"
    music = load_music(video, 16000)
    assert music.dtype == np.float32 and music.shape == (24000,)
    assert dominant_frequency(music, 16000) == pytest.approx(440, abs=1)
    assert np.abs(music).max() == pytest.approx(0.4, abs=0.02)


@pytest.mark.parametrize("suffix", [".flac", ".mp3", ".m4a"])
def test_other_audio_formats_decode_to_the_same_tone(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"tone{suffix}"
    if suffix == ".m4a":
        write_m4a(path, sine(660, 1.0, 22050), 22050)
    else:
        soundfile.write(path, sine(660, 1.0, 22050), 22050, format=suffix[1:].upper())
    audio = read_audio(path, 16000)
    assert abs(len(audio) - 16000) <= 0.02 * 16000
    assert dominant_frequency(audio, 16000) == pytest.approx(660, abs=2)


def test_stereo_keeps_channels_or_mixes_them_to_their_mean(tmp_path: Path) -> None:
    left, right = sine(300, 1.0, 8000), sine(500, 1.0, 8000, amplitude=0.2)
    soundfile.write(tmp_path / "stereo.wav", np.stack([left, right], axis=1), 8000)
    both = read_audio(tmp_path / "stereo.wav", 8000, mono=False)
    assert both.shape == (2, 8000) and both.dtype == np.float32
    assert [dominant_frequency(channel, 8000) for channel in both] == pytest.approx([300, 500], abs=1)
    np.testing.assert_allclose(read_audio(tmp_path / "stereo.wav", 8000), (left + right) / 2, atol=1e-4)


def test_sibling_lookup_prefers_wav_ignores_case_and_never_returns_the_video(tmp_path: Path) -> None:
    video = tmp_path / "shot.take2.mp4"
    assert sibling_audio(video) is None
    (tmp_path / "shot.take2.FLAC").write_bytes(b"x")
    assert sibling_audio(video) == tmp_path / "shot.take2.FLAC"
    (tmp_path / "shot.take2.wav").write_bytes(b"x")
    assert sibling_audio(video) == tmp_path / "shot.take2.wav"
    (tmp_path / "other.wav").write_bytes(b"x")
    assert sibling_audio(tmp_path / "song.m4a") is None  # an audio file is not its own sibling
    assert AUDIO_SUFFIXES == (".wav", ".flac", ".mp3", ".m4a")


def test_load_music_prefers_the_sibling_master_then_the_track_then_none(tmp_path: Path) -> None:
    rate = 32000
    with_track = still_video(tmp_path / "a.mp4", 2.0, sine(440, 2.0, rate), rate)
    track = load_music(with_track, rate)
    assert dominant_frequency(track, rate) == pytest.approx(440, abs=1)
    assert abs(len(track) / rate - 2.0) <= 1 / 50  # AAC's padded last frame is trimmed away
    soundfile.write(tmp_path / "a.flac", sine(880, 2.0, rate), rate)
    assert dominant_frequency(load_music(with_track, rate), rate) == pytest.approx(880, abs=1)
    assert load_music(still_video(tmp_path / "silent.mp4"), rate) is None


def test_video_track_is_read_directly(tmp_path: Path) -> None:
    video = still_video(tmp_path / "v.mp4", 1.0, sine(1000, 1.0, 48000), 48000)
    audio = read_audio(video, 16000)
    assert abs(len(audio) - 16000) <= 16000 / 50
    assert dominant_frequency(audio, 16000) == pytest.approx(1000, abs=2)


def test_bad_audio_inputs_raise_one_line_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="gone.wav: no such file"):
        read_audio(tmp_path / "gone.wav", 16000)
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(UserError, match=r"^empty\.wav: empty file \(0 bytes\)$"):
        read_audio(tmp_path / "empty.wav", 16000)
    (tmp_path / "noise.mp3").write_bytes(bytes(range(256)) * 8)
    with pytest.raises(UserError, match=r"^noise\.mp3: no decodable audio stream$"):
        read_audio(tmp_path / "noise.mp3", 16000)
    with pytest.raises(UserError, match=r"^mute\.mp4: no audio stream$"):
        read_audio(still_video(tmp_path / "mute.mp4"), 16000)
    with pytest.raises(ValueError, match="sample_rate"):
        read_audio(tmp_path / "mute.mp4", 0)


def test_corrupt_sibling_is_reported_not_silently_replaced(tmp_path: Path) -> None:
    video = still_video(tmp_path / "b.mp4", 1.0, sine(440, 1.0, 16000), 16000)
    (tmp_path / "b.wav").write_bytes(b"RIFF" + bytes(100))
    with pytest.raises(UserError, match=r"^b\.wav: "):
        load_music(video, 16000)
