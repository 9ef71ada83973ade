"""How well independent detectors recover a micro world's saved ground truth from its written files.

Each function reads the mp4 and wav files a world build wrote, runs a detector that knows nothing of how the
world was made (librosa's onsets, frame differences, a key estimator, simple colour and loudness statistics)
and returns the share of cases where it agrees with the manifest, next to what chance would give. The tests
assert these well above chance on a small world; `benchmarks/world_ground_truth.py` reports them on the
default one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from toolkit.data.world.styles import STYLE_TABLE

CUT_PIXEL_CHANGE = 40  # summed |ΔRGB| above which a pixel counts as changed between two frames
CUT_SHARE = 0.5  # share of changed pixels that makes a cut: a beat flash changes only the shapes


@dataclass(frozen=True)
class Agreement:
    """`hits` of `total` cases agree with the ground truth; `chance` is the share a blind guess would get."""

    name: str
    hits: int
    total: int
    chance: float

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else float("nan")

    def __str__(self) -> str:
        return f"{self.name}: {self.hits}/{self.total} = {self.rate:.3f} (chance {self.chance:.2f})"


def frames_of(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def beats_on_onsets(world: Path, records: list[dict], tolerance: float = 0.05,
                    shift_beats: float = 0.0) -> Agreement:
    """Saved beats inside drummed shots that librosa's onset detector finds within `tolerance` seconds.
    `shift_beats` moves the saved grid by that fraction of a beat: the control that must fail."""
    import librosa

    hits = total = 0
    for r in records:
        audio, sr = sf.read(world / r["audio"], dtype="float32")
        onsets = librosa.onset.onset_detect(y=audio, sr=sr, units="time", hop_length=256)
        for shot in r["shots"]:
            if STYLE_TABLE[shot["style"]].drums is None:
                continue
            start, end = shot["start"], shot["start"] + shot["duration"]
            period = 60.0 / shot["tempo"]
            # A beat in the last 50 ms of its shot has too little of its attack inside to be detected.
            beats = np.array([b + shift_beats * period for b in r["beats"] if start <= b < end - 0.05])
            if len(beats) and len(onsets):
                hits += int((np.abs(beats[:, None] - onsets[None]).min(1) <= tolerance).sum())
            total += len(beats)
    # Chance: onsets per second times the window width, roughly; report the shifted control next to it.
    return Agreement(f"beats within {tolerance * 1000:.0f} ms of an onset" + (
        f" (grid shifted {shift_beats:g} beat)" if shift_beats else ""), hits, total, float("nan"))


def detected_cuts(frames: np.ndarray, fps: float) -> np.ndarray:
    """Times of the first frame of each new shot, from the share of pixels that change at once."""
    changed = (np.abs(np.diff(frames.astype(np.int32), axis=0)).sum(-1) > CUT_PIXEL_CHANGE).mean(axis=(1, 2))
    return (np.flatnonzero(changed > CUT_SHARE) + 1) / fps


def cuts_detected(world: Path, records: list[dict], fps: float, on_beat: bool) -> Agreement:
    """Saved cuts (on or off the beat) with a detected cut within one frame, counting every detection that
    matches no saved cut as a miss too (so a detector that fires everywhere does not score)."""
    hits = total = 0
    for r in records:
        detected = detected_cuts(frames_of(world / r["video"]), fps)
        saved = np.array(r["cuts"])
        near = (np.abs(saved[:, None] - detected[None]) <= 1 / fps + 1e-9) if len(saved) and len(detected) \
            else np.zeros((len(saved), len(detected)), bool)
        wanted = np.array(r["cuts_on_beat"], bool) == on_beat
        hits += int(near[wanted].any(axis=1).sum())
        total += int(wanted.sum())
        if on_beat:  # spurious detections are charged once, to the on-beat figure
            total += int((~near.any(axis=0)).sum())
    kind = "on-beat" if on_beat else "off-beat"
    return Agreement(f"{kind} cuts detected within one frame", hits, total, 0.0)


def shot_styles_from_music(world: Path, records: list[dict]) -> Agreement:
    """Each shot's style named by the nearest style centroid (leave-one-out) of mean log-mel over its music."""
    import librosa

    features, styles = [], []
    for r in records:
        audio, sr = sf.read(world / r["audio"], dtype="float32")
        for shot in r["shots"]:
            if shot["duration"] < 1.5:  # a plain clip's sliver of a shot at its edge
                continue
            piece = audio[int(shot["start"] * sr): int((shot["start"] + shot["duration"]) * sr)]
            mel = librosa.power_to_db(librosa.feature.melspectrogram(y=piece, sr=sr, n_mels=48))
            features.append(np.concatenate([mel.mean(1), mel.std(1)]))
            styles.append(shot["style"])
    return _nearest_centroid("shot styles from their music", np.array(features), np.array(styles))


def mode_from_audio(world: Path, records: list[dict]) -> Agreement:
    """The mode (valence's sign) of the toolkit's chroma key estimator against the saved mode."""
    from toolkit.metrics.key import estimate_key

    hits = 0
    for r in records:
        audio, sr = sf.read(world / r["audio"], dtype="float32")
        hits += int(estimate_key(audio, sr).mode == r["mode"])
    return Agreement("valence sign from the estimated mode", hits, len(records), 0.5)


def within_style_order(name: str, records: list[dict], truth: str, measure: Callable[[dict], float],
                       min_gap: float = 0.5) -> Agreement:
    """Pairs of plain clips of one style whose `truth` differs by at least `min_gap`: the share that
    `measure` puts in the same order (Kendall-style concordance; chance 0.5). Within a style, so the
    style's own palette, tempo and instruments do not count."""
    plain = [r for r in records if not r["storyboard"]]
    values = {r["id"]: measure(r) for r in plain}
    hits = total = 0
    for a, b in itertools.combinations(plain, 2):
        if a["style"] == b["style"] and abs(a[truth] - b[truth]) >= min_gap:
            total += 1
            hits += int((values[a["id"]] - values[b["id"]]) * (a[truth] - b[truth]) > 0)
    return Agreement(name, hits, total, 0.5)


def saturation(world: Path) -> Callable[[dict], float]:
    """Mean HSV saturation of a clip's frames."""
    def measure(r: dict) -> float:
        frames = frames_of(world / r["video"]).astype(np.float32)
        high, low = frames.max(-1), frames.min(-1)
        return float(((high - low) / np.maximum(high, 1.0)).mean())
    return measure


def brightness(world: Path) -> Callable[[dict], float]:
    """Mean luma of a clip's frames."""
    return lambda r: float((frames_of(world / r["video"]).astype(np.float32) @ [0.299, 0.587, 0.114]).mean())


def motion(world: Path) -> Callable[[dict], float]:
    """Mean absolute change between frames two apart, each frame's mean removed (the beat flash lifts the
    whole frame), away from cuts."""
    def measure(r: dict) -> float:
        frames = frames_of(world / r["video"]).astype(np.float32).mean(-1)
        frames -= frames.mean(axis=(1, 2), keepdims=True)
        fps = len(frames) / r["seconds"]
        cut_frames = {int(np.ceil(c * fps - 1e-9)) + k for c in r["cuts"] for k in (-1, 0, 1, 2)}
        diffs = [np.abs(frames[i + 2] - frames[i]).mean() for i in range(len(frames) - 2)
                 if not cut_frames & {i, i + 1, i + 2}]
        return float(np.mean(diffs))
    return measure


def spectral_centroid(world: Path) -> Callable[[dict], float]:
    import librosa

    def measure(r: dict) -> float:
        audio, sr = sf.read(world / r["audio"], dtype="float32")
        return float(np.median(librosa.feature.spectral_centroid(y=audio, sr=sr)))
    return measure


def onset_density(world: Path) -> Callable[[dict], float]:
    import librosa

    def measure(r: dict) -> float:
        audio, sr = sf.read(world / r["audio"], dtype="float32")
        return len(librosa.onset.onset_detect(y=audio, sr=sr, hop_length=256)) / r["seconds"]
    return measure


def loudness(world: Path) -> Callable[[dict], float]:
    """RMS level in dB."""
    def measure(r: dict) -> float:
        audio, _ = sf.read(world / r["audio"], dtype="float32")
        return float(20 * np.log10(np.sqrt(np.mean(audio**2)) + 1e-9))
    return measure


def all_agreements(world: Path, records: list[dict], fps: float) -> list[Agreement]:
    """Every figure the world's ground truth is checked by, in the order the closing note lists them."""
    return [
        beats_on_onsets(world, records),
        beats_on_onsets(world, records, shift_beats=0.25),
        cuts_detected(world, records, fps, on_beat=True),
        cuts_detected(world, records, fps, on_beat=False),
        shot_styles_from_music(world, records),
        mode_from_audio(world, records),
        within_style_order("valence from timbre brightness (spectral centroid)", records, "valence",
                           spectral_centroid(world)),
        within_style_order("valence from frame saturation", records, "valence", saturation(world)),
        within_style_order("valence from frame brightness", records, "valence", brightness(world)),
        within_style_order("arousal from onset density", records, "arousal", onset_density(world)),
        within_style_order("arousal from loudness (RMS)", records, "arousal", loudness(world)),
        within_style_order("arousal from frame motion", records, "arousal", motion(world)),
    ]


def _nearest_centroid(name: str, features: np.ndarray, labels: np.ndarray) -> Agreement:
    scale = features.std(0) + 1e-6
    z = (features - features.mean(0)) / scale
    hits = 0
    for i, label in enumerate(labels):
        others = np.arange(len(labels)) != i
        centroids = {s: z[others & (labels == s)].mean(0) for s in set(labels[others])}
        hits += int(min(centroids, key=lambda s: np.linalg.norm(z[i] - centroids[s])) == label)
    return Agreement(name, hits, len(labels), 1 / len(set(labels)))
