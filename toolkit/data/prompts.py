"""The optional `prompts.jsonl` of a dataset: one JSON object per line, keyed by video stem."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import UserError


@dataclass(frozen=True)
class ShotCaption:
    """What one shot of a clip should sound like: from `start` for `duration` seconds."""

    start: float
    duration: float
    caption: str


@dataclass(frozen=True)
class PromptRecord:
    """A creator prompt for one clip, its paraphrases, attributes (style, tempo, key, mode, valence, arousal,
    instruments), and optional per-shot captions."""

    prompt: str
    paraphrases: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    shots: tuple[ShotCaption, ...] = ()



def read_prompts(path: str | Path) -> dict[str, PromptRecord]:
    """stem → PromptRecord; a missing file gives {}; a malformed line raises UserError naming file and line."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    records: dict[str, PromptRecord] = {}
    for number, line in enumerate(lines, start=1):
        if line.strip():
            stem, record = _parse(line, f"{path}:{number}")
            if stem in records:
                raise UserError(f"{path}:{number}: stem {stem!r} appears twice")
            records[stem] = record
    return records


def _parse(line: str, where: str) -> tuple[str, PromptRecord]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise UserError(f"{where}: not valid JSON ({err})") from None
    if not isinstance(obj, dict):
        raise UserError(f"{where}: expected a JSON object with 'stem' and 'prompt'")
    for key in ("stem", "prompt"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise UserError(f"{where}: {key!r} must be a non-empty string")
    paraphrases = obj.get("paraphrases") or []
    if not isinstance(paraphrases, list) or not all(isinstance(p, str) for p in paraphrases):
        raise UserError(f"{where}: 'paraphrases' must be a list of strings")
    attributes = obj.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise UserError(f"{where}: 'attributes' must be an object")
    if not isinstance(obj.get("shots") or [], list):
        raise UserError(f"{where}: 'shots' must be a list of {{start, duration, caption}} objects")
    shots = tuple(_shot(entry, f"{where}: shots[{i}]") for i, entry in enumerate(obj.get("shots") or []))
    return obj["stem"], PromptRecord(obj["prompt"], tuple(paraphrases), dict(attributes), shots)


def _shot(entry: Any, where: str) -> ShotCaption:
    if not isinstance(entry, dict) or not isinstance(entry.get("caption"), str):
        raise UserError(f"{where}: expected an object with 'start', 'duration' (seconds) and 'caption'")
    try:
        start, duration = float(entry["start"]), float(entry["duration"])
    except (KeyError, TypeError, ValueError):
        raise UserError(f"{where}: 'start' and 'duration' must be numbers of seconds") from None
    if start < 0 or duration <= 0:
        raise UserError(f"{where}: needs start >= 0 and duration > 0, got {start} and {duration}")
    return ShotCaption(start, duration, entry["caption"])
