"""The optional `prompts.jsonl` of a dataset: one JSON object per line, keyed by video stem."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import UserError


@dataclass(frozen=True)
class PromptRecord:
    """A creator prompt for one clip, its paraphrases, and attributes (style, tempo, key, mode, instruments)."""

    prompt: str
    paraphrases: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)


def read_prompts(path: str | Path) -> dict[str, PromptRecord]:
    """stem → PromptRecord; a missing file gives {}; a malformed line raises UserError naming file and line."""
    path = Path(path)
    if not path.is_file():
        return {}
    records: dict[str, PromptRecord] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            stem, prompt = str(obj["stem"]), str(obj["prompt"])
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise UserError(f"{path}:{number}: expected a JSON object with 'stem' and 'prompt' ({err})") from None
        records[stem] = PromptRecord(prompt, tuple(obj.get("paraphrases") or ()), dict(obj.get("attributes") or {}))
    return records
