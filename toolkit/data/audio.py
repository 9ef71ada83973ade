"""Reading audio: music files beside a video, or a video's own sound track, resampled with soxr."""

from __future__ import annotations

import warnings
from pathlib import Path

import av
import numpy as np
import soundfile
import soxr

from toolkit.data.cache import file_hash
from toolkit.data.video import iter_packets, require_file
from toolkit.errors import MediaError

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a")


def sibling_audio(video_path: str | Path) -> Path | None:
    """The audio file beside `video_path` with the same stem (first of AUDIO_SUFFIXES, any case), if any."""
    video_path = Path(video_path)
    for suffix in AUDIO_SUFFIXES:
        for candidate in (video_path.with_suffix(suffix), video_path.with_suffix(suffix.upper())):
            if candidate != video_path and candidate.is_file():
                return candidate
    return None


def music_hash(video_path: str | Path, video_hash: str | None = None) -> str:
    """The content key of a video's music: its bytes' hash, plus a same-stem audio file's when there is one
    (`load_music` prefers that file). `video_hash`: the video's `file_hash`, when the caller has it already."""
    content = video_hash or file_hash(video_path)
    sibling = sibling_audio(video_path)
    return f"{content}+{file_hash(sibling)}" if sibling else content


def read_audio(path: str | Path, sample_rate: int, mono: bool = True) -> np.ndarray:
    """Decode an audio file or a video's sound track at `sample_rate`: float32 (n,) if `mono` (channel mean),
    else (channels, n)."""
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    path = require_file(path)
    decoded = _read_with_soundfile(path)
    audio, rate = decoded if decoded is not None else _read_with_pyav(path)
    if rate != sample_rate and audio.shape[1] > 0:
        audio = soxr.resample(audio.T, rate, sample_rate).T
    if mono:
        audio = audio.mean(axis=0)
    return np.ascontiguousarray(audio, dtype=np.float32)


def load_music(video_path: str | Path, sample_rate: int) -> np.ndarray | None:
    """The music of a video, mono: its sibling audio file (the clean master) if there is one, else the video's
    own sound track, else None."""
    sibling = sibling_audio(video_path)
    if sibling is not None:
        return read_audio(sibling, sample_rate)
    if not has_audio_track(video_path):
        return None
    return read_audio(video_path, sample_rate)


def has_audio_track(path: str | Path) -> bool:
    """Whether the media file holds an audio stream (reads only the header)."""
    path = require_file(path)
    try:
        with av.open(str(path)) as container:
            return len(container.streams.audio) > 0
    except av.FFmpegError as error:
        raise MediaError(f"{path.name}: not a readable media file") from error


def _read_with_soundfile(path: Path) -> tuple[np.ndarray, int] | None:
    """(channels, n) float32 and its rate, or None when libsndfile cannot read the format (m4a, video)."""
    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except soundfile.LibsndfileError:
        return None
    return audio.T, int(rate)


def _read_with_pyav(path: Path) -> tuple[np.ndarray, int]:
    """Decode the first audio stream to planar float32 at its own rate."""
    try:
        container = av.open(str(path))
    except av.FFmpegError as error:
        raise MediaError(f"{path.name}: no decodable audio stream") from error
    with container:
        if not container.streams.audio:
            raise MediaError(f"{path.name}: no audio stream")
        stream = container.streams.audio[0]
        to_float = av.AudioResampler(format="fltp")  # keeps layout and rate; resampling is soxr's job
        chunks, rate, longest, skipped = [], stream.codec_context.sample_rate, 0, 0
        for packet in iter_packets(container, stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                skipped += 1
                continue
            for frame in frames:
                rate, longest = frame.sample_rate, max(longest, frame.samples)
                chunks.extend(out.to_ndarray() for out in to_float.resample(frame))
        chunks.extend(out.to_ndarray() for out in to_float.resample(None))
        if not chunks:
            raise MediaError(f"{path.name}: no decodable audio stream")
        audio = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
        declared = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
    if skipped:
        warnings.warn(f"{path.name}: skipped {skipped} undecodable audio packets", stacklevel=3)
    if declared is not None:
        # Codecs like AAC pad their last frame with silence; the container says where the sound really ends.
        # Trust it only for that small overhang: some formats (mp3 without a header) merely estimate it.
        keep = round(declared * rate)
        if 0 < audio.shape[1] - keep <= 2 * longest:
            audio = audio[:, :keep]
    return audio, int(rate)
