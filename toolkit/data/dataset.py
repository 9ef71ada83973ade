"""A dataset is a folder of videos with their music (in the video or a sibling audio file) and prompts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.data.audio import sibling_audio
from toolkit.data.prompts import ShotCaption, read_prompts
from toolkit.data.splits import assign_splits
from toolkit.data.video import probe_video
from toolkit.errors import MediaError, UserError

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")  # also what `toolkit evaluate --videos` reads


@dataclass(frozen=True)
class Item:
    """One usable clip: its video, where its music comes from, its prompt, and its split."""

    stem: str
    video: Path
    audio: Path | None  # a sibling audio file; None means the video's own audio track
    duration: float
    prompt: str | None = None
    paraphrases: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    shots: tuple[ShotCaption, ...] = ()  # per-shot captions, where prompts.jsonl gives them
    split: str = "train"


@dataclass
class Scan:
    """What a scan found: usable items and (file name, reason) for every skipped file."""

    items: list[Item]
    skipped: list[tuple[str, str]]
    total: int


def scan_dataset(root: str | Path, prompts_file: str = "prompts.jsonl", val: float = 0.1, test: float = 0.1,
                 split_seed: int = 0, require_music: bool = True) -> Scan:
    """Scan `root` recursively for videos; unreadable ones (and, for training, ones without music) are skipped.

    Raises UserError when `root` is missing or nothing usable remains.
    """
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"data.root: {root} does not exist or is not a directory")
    prompts = read_prompts(root / prompts_file)
    videos = sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and not _hidden(p, root))
    found: dict[str, Item] = {}
    skipped: list[tuple[str, str]] = []
    for video in videos:
        name = str(video.relative_to(root))
        if video.stem in found:
            skipped.append((name, f"duplicate stem {video.stem!r}"))
            continue
        try:
            info = probe_video(video)
        except MediaError as err:
            skipped.append((name, strip_name(str(err), video)))
            continue
        audio = sibling_audio(video)
        if require_music and audio is None and not info.has_audio:
            skipped.append((name, "no audio track and no sibling audio file"))
            continue
        record = prompts.get(video.stem)
        found[video.stem] = Item(
            stem=video.stem, video=video, audio=audio, duration=info.duration,
            prompt=record.prompt if record else None,
            paraphrases=record.paraphrases if record else (),
            attributes=record.attributes if record else {},
            shots=record.shots if record else (),
        )
    if not found:
        first = f"; first: {skipped[0][0]}: {skipped[0][1]}" if skipped else ""
        detail = f" (skipped {len(skipped)} of {len(videos)}{first})" if videos else ""
        raise UserError(f"data.root: {root}: no usable videos{detail}")
    splits = assign_splits(list(found), val=val, test=test, seed=split_seed)
    items = [_with_split(item, splits[stem]) for stem, item in found.items()]
    return Scan(items=items, skipped=skipped, total=len(videos))


def _with_split(item: Item, split: str) -> Item:
    return Item(**{**item.__dict__, "split": split})


def _hidden(path: Path, root: Path) -> bool:
    """Skip dot-folders (e.g. temporary build directories) and dot-files."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def strip_name(message: str, video: Path) -> str:
    """An error message without the file name it starts with (the caller prints the name once)."""
    return message.split(": ", 1)[1] if message.startswith((video.name, str(video))) else message
