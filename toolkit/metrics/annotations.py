"""What is known about each clip besides its audio: targets, video cuts, ground truth, prompts, videos, timings.

Read once per evaluation from the files beside the clips: the world's manifest (through the one manifest
reader), `prompts.jsonl`, `timings.jsonl`, and a folder of videos or a cache of their cuts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.data.dataset import VIDEO_SUFFIXES
from toolkit.data.manifest import find_manifest, read_manifest
from toolkit.data.prompts import read_prompts
from toolkit.errors import UserError
from toolkit.metrics import rhythm, speed

Report = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class Annotations:
    """Per clip id: tempo/key targets, video cuts (s), ground-truth records, prompts, videos and timings."""

    targets: dict[str, dict] = field(default_factory=dict)  # id -> {"tempo": bpm, "key": "D", "mode": "major"}
    targets_source: str = "reference audio"
    cuts: dict[str, np.ndarray] = field(default_factory=dict)
    cuts_source: str = ""
    truth: dict[str, dict] = field(default_factory=dict)  # manifest records (beats, cuts, style)
    truth_source: str = ""
    prompts: dict[str, str] = field(default_factory=dict)
    videos: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, speed.ClipTiming] = field(default_factory=dict)
    world: Path | None = None  # the folder whose manifest labels styles (the style classifier's training set)


def read_annotations(
    reference_dir: str | Path,
    generated_dir: str | Path,
    videos_dir: str | Path | None,
    ids: list[str],
    report: Report = _stderr,
    cuts: Mapping[str, Any] | None = None,
    cuts_source: str = "",
) -> Annotations:
    """Everything `Annotations` holds for clips `ids`.

    Cuts come from `cuts` when given (e.g. the shots feature cache), else from shot detection on `videos_dir`,
    else from the manifest's `cuts`. Targets come from `prompts.jsonl` attributes, else the manifest."""
    notes = Annotations()
    manifest = find_manifest(reference_dir)
    records = read_manifest(manifest) if manifest else {}
    wanted = set(ids)
    if records:
        notes.truth = {i: r for i, r in records.items() if i in wanted}
        notes.truth_source = str(manifest)
        if all("style" in r and "audio" in r for r in records.values()):
            notes.world = manifest.parent
    for folder in (Path(reference_dir), Path(reference_dir).parent):
        prompts = read_prompts(folder / "prompts.jsonl")
        if prompts:
            notes.targets = {s: dict(p.attributes) for s, p in prompts.items() if p.attributes and s in wanted}
            notes.targets_source = str(folder / "prompts.jsonl")
            notes.prompts = {s: p.prompt for s, p in prompts.items() if s in wanted}
            break
    if not notes.targets and records:
        notes.targets = {i: r for i, r in notes.truth.items() if "tempo" in r or "key" in r}
        notes.targets_source = str(manifest)
    if videos_dir is not None:
        notes.videos = {p.stem: p for p in Path(videos_dir).iterdir()
                        if p.suffix.lower() in VIDEO_SUFFIXES and p.stem in wanted}
    if cuts is not None:
        notes.cuts = {i: np.asarray(c, np.float64) for i, c in cuts.items() if i in wanted}
        notes.cuts_source = cuts_source
    elif videos_dir is not None:
        notes.cuts_source = f"shot detection on {videos_dir}"
        for clip_id in ids:
            if clip_id not in notes.videos:
                report(f"{videos_dir}: no video with stem {clip_id!r} (cut metrics leave this pair out)")
                continue
            try:
                notes.cuts[clip_id] = rhythm.video_transitions(notes.videos[clip_id])
            except UserError as err:
                report(f"{notes.videos[clip_id]}: unreadable video ({err})")
    elif records:
        notes.cuts = {i: np.asarray(r["cuts"], np.float64) for i, r in notes.truth.items() if "cuts" in r}
        notes.cuts_source = str(manifest)
    timings_file = Path(generated_dir) / speed.TIMINGS_FILE
    if timings_file.is_file():
        notes.timings = speed.read_timings(timings_file)
    return notes
