"""Video reading: timestamp sampling (29.97 fps, VFR, decode-order-only AVI), sizes, formats, bad files.

Every test video is rendered here with frames whose colour encodes their index, so a test can tell exactly
which source frame the reader returned for each grid time.
"""

from __future__ import annotations

import math
import sys
import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import toolkit.data.video as video
from toolkit.data.mp4 import write_mp4
from toolkit.data.video import Frames, VideoInfo, probe_video, read_frames
from toolkit.errors import UserError

# 64 colours 64 levels apart in each channel: far beyond what H.264 at low crf shifts a flat colour by.
PALETTE = np.array([(32 + 64 * (i % 4), 32 + 64 * (i // 4 % 4), 32 + 64 * (i // 16)) for i in range(64)])


def indexed_frames(n: int, height: int = 144, width: int = 176) -> np.ndarray:
    return np.broadcast_to(PALETTE[:n, None, None, :].astype(np.uint8), (n, height, width, 3)).copy()


def frame_ids(array: np.ndarray) -> list[int]:
    """Which palette colour (= source frame index) each returned picture shows."""
    height, width = array.shape[1:3]
    centre = array[:, height // 4 : height - height // 4, width // 4 : width - width // 4]
    means = centre.reshape(len(array), -1, 3).mean(axis=1)
    distances = np.linalg.norm(means[:, None, :] - PALETTE[None], axis=2)
    assert distances.min(axis=1).max() < 16, "a picture matches no palette colour"
    return distances.argmin(axis=1).tolist()


def write_with_pts(path: Path, pts: list[int], tick: Fraction = Fraction(1, 1000), fmt: str = "mp4") -> Path:
    """H.264 video whose i-th frame (palette colour i) starts at pts[i] ticks: any frame timing."""
    with av.open(str(path), mode="w", format=fmt) as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 176, 144, "yuv420p"
        stream.codec_context.time_base = tick
        stream.options = {"crf": "10"}
        for stamp, picture in zip(pts, indexed_frames(len(pts)), strict=True):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = stamp, tick
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.fixture(params=["decord", "pyav"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once through decord and once through the PyAV fallback (decord made unimportable)."""
    if request.param == "pyav":
        monkeypatch.setitem(sys.modules, "decord", None)
    else:  # prove the decord path really decodes: the fallback would fail
        monkeypatch.setattr(video, "_decode_with_pyav", _fail)
    return request.param


def _fail(*args, **kwargs):
    raise AssertionError("PyAV fallback used")


@pytest.fixture(scope="module")
def ntsc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 frames at 29.97 fps, 176x144, no audio track."""
    return write_mp4(tmp_path_factory.mktemp("v") / "ntsc.mp4", indexed_frames(60), 30000 / 1001, crf=10)


def test_probe_reports_size_rate_count_duration_and_no_audio(ntsc: Path) -> None:
    info = probe_video(ntsc)
    assert isinstance(info, VideoInfo) and info.path == ntsc
    assert (info.width, info.height, info.n_frames, info.has_audio) == (176, 144, 60, False)
    assert info.fps == pytest.approx(30000 / 1001)
    assert info.duration == pytest.approx(60 * 1001 / 30000)


def test_2997_fps_is_sampled_by_timestamp(ntsc: Path, backend: str) -> None:
    frames = read_frames(ntsc, fps=10, max_side=None)
    assert isinstance(frames, Frames) and frames.fps == 10
    assert len(frames.times) == math.floor(2.002 * 10) == 20
    np.testing.assert_array_equal(frames.times, np.arange(20) / 10)
    assert frames.array.shape == (20, 144, 176, 3) and frames.array.dtype == np.uint8
    # frame i starts at i * 1001/30000 s: the one shown at k/10 s is floor(k * 3000 / 1001)
    assert frame_ids(frames.array) == [k * 3000 // 1001 for k in range(20)]


def test_sampling_at_the_native_rate_returns_every_frame_once(ntsc: Path, backend: str) -> None:
    frames = read_frames(ntsc, fps=30000 / 1001)
    assert frame_ids(frames.array) == list(range(60))


def test_variable_frame_rate_picks_the_frame_on_screen(tmp_path: Path, backend: str) -> None:
    starts_ms = [0, 100, 150, 400, 500, 900, 1000]
    path = write_with_pts(tmp_path / "vfr.mp4", starts_ms)
    info = probe_video(path)
    assert info.n_frames == 7 and 1.0 < info.duration < 1.2
    frames = read_frames(path, fps=10)
    assert len(frames.times) == math.floor(info.duration * 10)
    expected = [max(i for i, s in enumerate(starts_ms) if s <= 100 * k) for k in range(len(frames.times))]
    assert frame_ids(frames.array) == expected  # [0, 1, 2, 2, 3, 4, 4, 4, 4, 5]


def test_decode_order_only_timestamps_avi_with_b_frames(tmp_path: Path) -> None:
    # AVI stores no presentation times; decoders then stamp reordered frames wrongly. Order must still hold.
    path = write_with_pts(tmp_path / "bframes.avi", list(range(25)), tick=Fraction(1, 25), fmt="avi")
    assert frame_ids(read_frames(path, fps=25).array) == list(range(25))
    assert frame_ids(read_frames(path, fps=5).array) == [0, 5, 10, 15, 20]


def test_odd_size_is_kept_or_shrunk_by_long_side(ntsc: Path, backend: str) -> None:
    assert read_frames(ntsc, fps=1, max_side=None).array.shape == (2, 144, 176, 3)
    assert read_frames(ntsc, fps=1, max_side=500).array.shape == (2, 144, 176, 3)  # never enlarged
    assert read_frames(ntsc, fps=1, max_side=100).array.shape == (2, 82, 100, 3)


def test_one_frame_video_gives_at_least_one_sample(tmp_path: Path, backend: str) -> None:
    path = write_mp4(tmp_path / "one.mp4", indexed_frames(1), 25, crf=10)
    info = probe_video(path)
    assert info.n_frames == 1 and info.duration == pytest.approx(0.04)
    assert frame_ids(read_frames(path, fps=2).array) == [0]  # floor(0.04 * 2) = 0, raised to 1
    assert frame_ids(read_frames(path, fps=100).array) == [0, 0, 0, 0]


def test_large_frames_come_back_small_with_content_in_place(tmp_path: Path, backend: str) -> None:
    frames = np.zeros((4, 1080, 1920, 3), np.uint8)
    frames[:, :540, :960] = (0, 200, 0)  # a green top-left quadrant
    frames[:, :, :, 2] = np.arange(4)[:, None, None] * 60
    path = write_mp4(tmp_path / "hd.mp4", frames, 25, crf=10)
    out = read_frames(path, fps=25, max_side=224).array
    assert out.shape == (4, 126, 224, 3)
    assert out[:, 10, 10, 1].min() > 180 and out[:, 100, 200, 1].max() < 20
    np.testing.assert_allclose(out[:, 100, 200, 2], [0, 60, 120, 180], atol=8)


def test_grayscale_pixels_come_back_as_equal_rgb(tmp_path: Path, backend: str) -> None:
    levels = [0, 30, 60, 90, 120, 150, 180, 210]
    path = tmp_path / "gray.mkv"
    with av.open(str(path), mode="w") as container:  # ffv1 is lossless and decodes to the gray format
        stream = container.add_stream("ffv1", rate=8)
        stream.width, stream.height, stream.pix_fmt = 33, 21, "gray"
        for level in levels:
            picture = np.full((21, 33), level, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="gray")))
        container.mux(stream.encode())
    frames = read_frames(path, fps=8, max_side=None)
    assert frames.array.shape == (8, 21, 33, 3)
    expected = np.broadcast_to(np.array(levels, np.uint8)[:, None, None, None], (8, 21, 33, 3))
    np.testing.assert_array_equal(frames.array, expected)


def test_truncated_inside_the_data_returns_the_frames_before_the_cut(tmp_path: Path) -> None:
    whole = tmp_path / "whole.mp4"
    with av.open(str(whole), mode="w", options={"movflags": "faststart"}) as container:  # index first
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt, stream.options = 176, 144, "yuv420p", {"crf": "10"}
        for picture in indexed_frames(40):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    frames = read_frames(cut, fps=10)
    ids = frame_ids(frames.array)
    assert 5 <= len(ids) < 40 and ids == list(range(len(ids)))


def test_frames_are_shrunk_one_at_a_time(tmp_path: Path, backend: str) -> None:
    # Peak memory while reading 10 frames of 1280x720 stays below one full-resolution RGB frame (2.8 MB).
    path = write_mp4(tmp_path / "wide.mp4", indexed_frames(10, 720, 1280), 10, crf=10)
    tracemalloc.start()
    try:
        frames = read_frames(path, fps=10, max_side=64)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert frames.array.shape == (10, 36, 64, 3) and frame_ids(frames.array) == list(range(10))
    assert peak < 720 * 1280 * 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.mp4", b"", "empty.mp4: empty file (0 bytes)"),
        ("garbage.mp4", bytes(range(256)) * 20, "garbage.mp4: no decodable video stream"),
    ],
)
def test_unreadable_files_raise_one_line_naming_the_file(tmp_path: Path, name: str, content: bytes,
                                                         message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    for call in (lambda: probe_video(path), lambda: read_frames(path, fps=4)):
        with pytest.raises(UserError) as error:
            call()
        assert str(error.value) == message


def test_truncated_file_is_not_decodable(ntsc: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(ntsc.read_bytes()[: ntsc.stat().st_size // 2])  # the index (moov) is at the end: lost
    with pytest.raises(UserError, match=r"^corrupt\.mp4: no decodable video stream$"):
        read_frames(corrupt, fps=4)


def test_missing_file_directory_and_audio_only_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="nothing.mp4: no such file"):
        probe_video(tmp_path / "nothing.mp4")
    with pytest.raises(UserError, match="not a file"):
        read_frames(tmp_path, fps=4)
    sound = tmp_path / "sound.m4a"
    with av.open(str(sound), mode="w", format="ipod") as container:
        stream = container.add_stream("aac", rate=16000, layout="mono")
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        chunk.sample_rate = 16000
        container.mux(stream.encode(chunk))
        container.mux(stream.encode())
    with pytest.raises(UserError, match=r"^sound\.m4a: no decodable video stream$"):
        probe_video(sound)


def test_huge_resolution_is_refused_before_decoding(ntsc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(video, "MAX_PIXELS", 100 * 100)
    with pytest.raises(UserError, match=r"^ntsc\.mp4: unsupported resolution 176x144 \(over 10,000 pixels"):
        read_frames(ntsc, fps=4)


def test_bad_arguments_are_programming_errors(ntsc: Path) -> None:
    with pytest.raises(ValueError, match="fps"):
        read_frames(ntsc, fps=0)
    with pytest.raises(ValueError, match="max_side"):
        read_frames(ntsc, fps=1, max_side=0)
