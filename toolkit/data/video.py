"""Reading video: what a file holds, and its frames sampled on a uniform time grid.

Timestamps come from the container (PyAV demuxing, no decoding), so variable frame rate and 29.97 fps are
sampled by time, not by frame count. Pictures are decoded by decord, or by PyAV when decord is missing or
fails; both shrink each frame as it is decoded, so a long 4K clip is never held at full resolution.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from toolkit.errors import MediaError

log = logging.getLogger(__name__)

MAX_PIXELS = 8192 * 8192
"""Frames larger than this are refused: one decoded picture alone would take over 200 MB."""


@dataclass(frozen=True)
class VideoInfo:
    """What a reader learns about a video without decoding it all (durations in seconds)."""

    path: Path
    width: int
    height: int
    fps: float
    n_frames: int
    duration: float
    has_audio: bool


@dataclass(frozen=True)
class Frames:
    """Frames sampled on a uniform time grid: `array[k]` is the picture on screen at `times[k]`."""

    array: np.ndarray  # (T, H, W, 3) uint8 RGB
    times: np.ndarray  # (T,) float64 seconds, = arange(T) / fps
    fps: float


@dataclass(frozen=True)
class FrameIndex:
    """When each frame of a video is shown, from the container's packets (no decoding)."""

    origin: float  # time of the first frame in the container's clock
    starts: np.ndarray  # (N,) sorted, relative to `origin`, starts[0] == 0
    duration: float  # end of the last frame, relative to `origin`
    # False when the container only stores decode order (AVI with B-frames): decoders then stamp frames with
    # the wrong packet's time, so the k-th decoded frame is given the k-th time instead.
    frame_pts_reliable: bool
    # Stored timestamps are rounded to the container's clock tick (Matroska: 1 ms), so a frame up to half a
    # tick after a grid time counts as shown at that time.
    tolerance: float


def require_file(path: str | Path) -> Path:
    """`path` as a Path if it is a non-empty regular file, else `UserError` naming it."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path}: no such file")
    if not path.is_file():
        raise MediaError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise MediaError(f"{path.name}: empty file (0 bytes)")
    return path


def probe_video(path: str | Path) -> VideoInfo:
    """Size, frame rate, frame count, duration and audio presence; `UserError` if no frame can be decoded."""
    return probe_index(path)[0]


def probe_index(path: str | Path) -> tuple[VideoInfo, FrameIndex]:
    """`probe_video` plus when each frame is shown: one demuxing pass, decoding only the first picture."""
    path = require_file(path)
    with _open_video(path) as container:
        return _probe(path, container)


def read_frames(path: str | Path, fps: float, max_side: int | None = 224) -> Frames:
    """Sample the video at `fps`: T = floor(duration * fps) frames (at least 1), each the last frame shown
    at or before its grid time, shrunk so its long side is at most `max_side` (never enlarged; None: as is).
    """
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be positive or None, got {max_side}")
    info, index = probe_index(path)
    path = info.path
    size = _target_size(info.width, info.height, max_side)
    grid = np.arange(max(1, math.floor(index.duration * fps + 1e-9))) / fps
    array = _decode_with_decord(path, index, grid, size) if index.frame_pts_reliable else None
    if array is None:
        array = _decode_with_pyav(path, index, grid, size)
    return Frames(array=array, times=grid[: len(array)], fps=float(fps))


def iter_decoded(path: str | Path, index: FrameIndex) -> Iterator[tuple[av.VideoFrame, float, float]]:
    """Every decodable frame of the video `index` describes, with its start time (seconds after the first
    frame) and how long it is shown. Packets that fail to decode are skipped with a warning."""
    path = Path(path)
    with _open_video(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = float(stream.time_base)
        starts, n = index.starts, len(index.starts)
        skipped, count = 0, 0
        for packet in iter_packets(container, stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                skipped += 1
                continue
            for frame in frames:
                if index.frame_pts_reliable and frame.pts is not None:
                    start = frame.pts * time_base - index.origin
                    span = frame.duration * time_base if frame.duration else index.duration - start
                else:
                    start = starts[min(count, n - 1)]
                    span = (starts[count + 1] if count + 1 < n else index.duration) - start
                count += 1
                yield frame, start, max(span, 0.0)
    if skipped:
        warnings.warn(f"{path.name}: skipped {skipped} undecodable video packets", stacklevel=2)


def _probe(path: Path, container: av.container.InputContainer) -> tuple[VideoInfo, FrameIndex]:
    stream = container.streams.video[0]
    _check_resolution(path, stream.codec_context.width, stream.codec_context.height)
    pts, durations, first = [], [], None
    for packet in iter_packets(container, stream):
        if first is None:  # decoding the first picture proves the stream is really there
            first = _first_frame(packet)
        if packet.size == 0 or packet.is_discard:
            continue
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is not None:
            pts.append(stamp)
            durations.append(packet.duration or 0)
    if first is None:
        first = _first_frame(None, stream=stream)
    if first is None or not pts:
        raise MediaError(f"{path.name}: no decodable video stream")
    _check_resolution(path, first.width, first.height)
    rate = stream.average_rate or stream.guessed_rate
    # Reordering codec, yet presentation times rising in decode order: the times are decode times.
    rising = len(pts) > 2 and bool(np.all(np.diff(pts) > 0))
    reordered = bool(stream.codec_context.has_b_frames) and rising
    index = _index_from_packets(pts, durations, stream.time_base, rate, frame_pts_reliable=not reordered)
    fps = float(rate) if rate else len(pts) / index.duration
    has_audio = len(container.streams.audio) > 0
    info = VideoInfo(path, first.width, first.height, fps, len(pts), index.duration, has_audio)
    return info, index


def _open_video(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path))
    except av.FFmpegError as error:
        raise MediaError(f"{path.name}: no decodable video stream") from error
    except OSError as error:
        raise MediaError(f"{path.name}: cannot open ({error.strerror or error})") from error
    if not container.streams.video:
        container.close()
        raise MediaError(f"{path.name}: no decodable video stream")
    return container


def _check_resolution(path: Path, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise MediaError(f"{path.name}: unsupported resolution {width}x{height} (over {MAX_PIXELS:,} pixels)")


def iter_packets(container: av.container.InputContainer, stream: av.stream.Stream) -> Iterator[av.Packet]:
    """Demux `stream`; a read error (a truncated tail) ends the stream instead of failing it."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except (StopIteration, av.FFmpegError):
            return
        yield packet


def _first_frame(packet: av.Packet | None, stream: av.VideoStream | None = None) -> av.VideoFrame | None:
    """Feed one packet (None: flush `stream`'s decoder) and return the first picture that comes out."""
    try:
        frames = packet.decode() if packet is not None else stream.codec_context.decode(None)
    except av.FFmpegError:
        return None
    return frames[0] if frames else None


def _index_from_packets(
    pts: list[int], durations: list[int], time_base: Fraction, rate, frame_pts_reliable: bool
) -> FrameIndex:
    order = np.argsort(pts, kind="stable")
    ticks = np.asarray(pts, dtype=np.int64)[order]
    last = durations[order[-1]]
    if last <= 0:  # no packet duration: assume the last frame lasts as long as a typical one
        gaps = np.diff(ticks)
        nominal = 1 / float(rate) if rate else 1 / 25
        last = float(np.median(gaps)) if len(gaps) else nominal / float(time_base)
    starts = (ticks - ticks[0]) * float(time_base)
    duration = float((int(ticks[-1] - ticks[0]) + Fraction(last)) * time_base)
    tolerance = float(time_base) / 2 + 1e-9
    return FrameIndex(float(ticks[0] * time_base), starts, duration, frame_pts_reliable, tolerance)


def _target_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _pick_frames(starts: np.ndarray, grid: np.ndarray, tolerance: float) -> np.ndarray:
    """Index of the last frame starting at or before each grid time."""
    return np.clip(np.searchsorted(starts, grid + tolerance, side="right") - 1, 0, None)


def _decode_with_decord(path: Path, index: FrameIndex, grid: np.ndarray, size: tuple[int, int]):
    """Frames via decord (which scales inside its decoder), or None when decord is missing or disagrees."""
    try:
        import decord
    except ImportError:
        return None
    decord.logging.set_level(decord.logging.QUIET)
    try:
        reader = decord.VideoReader(str(path), width=size[0], height=size[1])
        if len(reader) != len(index.starts):
            raise RuntimeError(f"decord sees {len(reader)} frames, the container {len(index.starts)}")
        picks, where = np.unique(_pick_frames(index.starts, grid, index.tolerance), return_inverse=True)
        stamps = reader.get_frame_timestamp(np.r_[0, picks])[:, 0].astype(np.float64)
        if not np.allclose(stamps[1:] - stamps[0], index.starts[picks], atol=1e-3):
            raise RuntimeError("decord's frame times disagree with the container's")
        array = reader.get_batch(picks).asnumpy()
    except Exception as error:  # decord fails in many ways on unusual files; PyAV is the safety net
        log.debug("%s: decord failed (%s); decoding with PyAV", path.name, error)
        return None
    if array.shape[1:] != (size[1], size[0], 3):
        log.debug("%s: decord returned %s; decoding with PyAV", path.name, array.shape)
        return None
    return array[where.reshape(-1)]


def _decode_with_pyav(path: Path, index: FrameIndex, grid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Frames via PyAV, one picture at a time: each is converted only if picked, and only at `size`."""
    picked: list[np.ndarray] = []
    shown, shown_rgb, end = None, None, 0.0  # the frame on screen so far, its RGB (once needed), its end

    def rgb_of_shown() -> np.ndarray:
        nonlocal shown_rgb
        if shown_rgb is None:
            shown_rgb = shown.reformat(width=size[0], height=size[1], format="rgb24", interpolation="AREA")
            shown_rgb = shown_rgb.to_ndarray()
        return shown_rgb

    for frame, start, span in iter_decoded(path, index):
        # Grid times before this frame's start belong to the frame shown until now.
        before = start - index.tolerance
        while shown is not None and len(picked) < len(grid) and grid[len(picked)] < before:
            picked.append(rgb_of_shown())
        shown, shown_rgb, end = frame, None, start + span
    if shown is None:
        raise MediaError(f"{path.name}: no decodable video stream")
    # The tail of the grid shows the last frame, unless decoding ended early (a damaged file).
    while len(picked) < len(grid) and grid[len(picked)] < end - 1e-9:
        picked.append(rgb_of_shown())
    if not picked:
        picked.append(rgb_of_shown())
    return np.stack(picked)

