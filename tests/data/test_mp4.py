"""Writing mp4 and replacing a video's sound track: durations, pictures untouched, atomic on failure."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from toolkit.data.audio import read_audio
from toolkit.data.mp4 import mux_audio, write_mp4
from toolkit.data.video import probe_index, probe_video, read_frames
from toolkit.errors import UserError


def sine(freq: float, seconds: float, rate: int) -> np.ndarray:
    return (0.4 * np.sin(2 * np.pi * freq * np.arange(round(seconds * rate)) / rate)).astype(np.float32)


def dominant_frequency(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1 / rate)[spectrum.argmax()])


def ramp_frames(n: int, height: int = 144, width: int = 176) -> np.ndarray:
    """Frame i is a flat colour that encodes i."""
    frames = np.zeros((n, height, width, 3), np.uint8)
    frames[..., 0] = (np.arange(n) * 255 // max(n - 1, 1))[:, None, None]
    frames[..., 2] = 255 - frames[..., 0]
    return frames


def audio_seconds(path: Path) -> tuple[float, float]:
    """(duration the container declares, duration decoded) of the first audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        declared = float(stream.duration * stream.time_base)
        rate = stream.codec_context.sample_rate
    return declared, len(read_audio(path, rate)) / rate


@pytest.fixture(scope="module")
def ntsc_with_sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """45 frames at 29.97 fps (1.5015 s), 176x144, with a 440 Hz track."""
    path = tmp_path_factory.mktemp("mux") / "ntsc.mp4"
    return write_mp4(path, ramp_frames(45), 30000 / 1001, audio=sine(440, 1.5, 32000), sample_rate=32000)


@pytest.mark.parametrize(("seconds", "rate"), [(3.0, 32000), (0.5, 16000), (1.5015, 44100)])
def test_mux_replaces_the_track_with_audio_fitted_to_the_video(ntsc_with_sound: Path, tmp_path: Path,
                                                               seconds: float, rate: int) -> None:
    out = mux_audio(ntsc_with_sound, sine(660, seconds, rate), rate, tmp_path / "out.mp4")
    assert out == tmp_path / "out.mp4"
    video_seconds = probe_video(out).duration
    assert video_seconds == pytest.approx(45 * 1001 / 30000)
    declared, decoded = audio_seconds(out)
    assert abs(declared - video_seconds) <= 1 / 50 and abs(decoded - video_seconds) <= 1 / 50
    with av.open(str(out)) as container:
        tracks = container.streams.audio
        assert len(tracks) == 1 and tracks[0].codec_context.sample_rate == rate
    music = read_audio(out, rate)
    assert dominant_frequency(music, rate) == pytest.approx(660, abs=2)  # the old 440 Hz track is gone
    if seconds < 1.0:  # padded with silence after the given audio
        assert np.abs(music[round(0.6 * rate) :]).max() < 0.01
        assert np.abs(music[: round(0.4 * rate)]).max() > 0.3


def test_mux_copies_the_pictures_untouched(ntsc_with_sound: Path, tmp_path: Path) -> None:
    out = mux_audio(ntsc_with_sound, sine(660, 2.0, 32000), 32000, tmp_path / "out.mp4")
    before = read_frames(ntsc_with_sound, fps=30000 / 1001, max_side=None).array
    after = read_frames(out, fps=30000 / 1001, max_side=None).array
    assert len(before) == 45
    np.testing.assert_array_equal(after, before)  # stream copy: bit-identical decoded frames


def test_mux_stereo_and_in_place(ntsc_with_sound: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.mp4"
    path.write_bytes(ntsc_with_sound.read_bytes())
    stereo = np.stack([sine(300, 2.0, 48000), sine(900, 2.0, 48000)])
    mux_audio(path, stereo, 48000, path)
    channels = read_audio(path, 48000, mono=False)
    assert channels.shape[0] == 2
    assert [dominant_frequency(c, 48000) for c in channels] == pytest.approx([300, 900], abs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.mp4"]


def test_mux_reencodes_a_codec_mp4_cannot_hold(tmp_path: Path) -> None:
    source = tmp_path / "raw.avi"
    with av.open(str(source), mode="w") as container:  # huffyuv: lossless, and not allowed in mp4
        stream = container.add_stream("huffyuv", rate=10)
        stream.width, stream.height, stream.pix_fmt = 66, 47, "yuv422p"  # odd height: H.264 needs even
        for picture in ramp_frames(10, 47, 66):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())
    out = mux_audio(source, sine(440, 1.0, 16000), 16000, tmp_path / "out.mp4")
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    info = probe_video(out)
    assert (info.n_frames, info.duration) == (10, pytest.approx(1.0))
    red = read_frames(out, fps=10).array[:, 20, 30, 0].astype(int)
    np.testing.assert_allclose(red, ramp_frames(10)[:, 0, 0, 0], atol=12)


def test_mux_gives_decode_order_avi_true_timestamps(tmp_path: Path) -> None:
    source = tmp_path / "bframes.avi"
    with av.open(str(source), mode="w") as container:  # AVI keeps decode order only; x264 uses B-frames
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt, stream.options = 176, 144, "yuv420p", {"crf": "10"}
        for picture in ramp_frames(20):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())
    assert not probe_index(source)[1].frame_pts_reliable
    out = mux_audio(source, sine(440, 2.0, 16000), 16000, tmp_path / "out.mp4")
    assert probe_index(out)[1].frame_pts_reliable
    red = read_frames(out, fps=10).array[:, 50, 50, 0].astype(int)
    np.testing.assert_allclose(red, ramp_frames(20)[:, 0, 0, 0], atol=6)


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x00\x18ftypmp42" + bytes(300)])
def test_mux_on_a_bad_input_leaves_no_output(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(UserError, match=r"^bad\.mp4: "):
        mux_audio(bad, sine(440, 1.0, 16000), 16000, tmp_path / "out" / "result.mp4")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["bad.mp4"]


def test_mux_rejects_audio_of_the_wrong_shape(ntsc_with_sound: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="channels"):
        mux_audio(ntsc_with_sound, np.zeros((16000, 2)), 16000, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_write_mp4_pads_odd_sizes_and_keeps_audio_length(tmp_path: Path) -> None:
    tone = sine(440, 1.0, 16000)[:, None]  # write_mp4 takes (n, channels)
    path = write_mp4(tmp_path / "odd.mp4", ramp_frames(20, 143, 175), 20, audio=tone, sample_rate=16000)
    info = probe_video(path)
    assert (info.width, info.height, info.n_frames, info.has_audio) == (176, 144, 20, True)
    declared, decoded = audio_seconds(path)
    assert abs(declared - 1.0) <= 1 / 50 and abs(decoded - 1.0) <= 1 / 50


def test_muxed_audio_keeps_its_level(tmp_path: Path) -> None:
    """The AAC bitrate is high enough that a 0.5 sine decodes at 0.5 (FFmpeg's default gave 0.68 peaks)."""
    sr = 32000
    sine = 0.5 * np.sin(2 * np.pi * 440 * np.arange(2 * sr) / sr)
    path = write_mp4(tmp_path / "sine.mp4", np.zeros((48, 32, 32, 3), np.uint8), 24, sine, sr)
    steady = read_audio(path, sr)[4000:-4000]  # away from the encoder's priming and flush
    assert np.abs(steady).max() == pytest.approx(0.5, abs=0.03)
    assert np.sqrt(np.mean(steady**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.03)
