"""The one reader of a world's `manifest.jsonl` (its ground truth: one JSON object per clip, keyed by `id`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from toolkit.errors import UserError

MANIFEST = "manifest.jsonl"


def find_manifest(folder: str | Path) -> Path | None:
    """`manifest.jsonl` in `folder` or its parent (a world's clips live in `<world>/clips/`), else None."""
    folder = Path(folder)
    for candidate in (folder / MANIFEST, folder.parent / MANIFEST):
        if candidate.is_file():
            return candidate
    return None


def read_manifest(path: str | Path, require: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """id → record, in file order. A malformed line, a record without `id` or without one of `require`, or an
    id seen twice raises `UserError` naming the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UserError(f"{path}: no such manifest") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    records: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserError(f"{path}:{number}: not JSON ({err.msg})") from None
        missing = [k for k in ("id", *require) if not isinstance(record, dict) or k not in record]
        if missing:
            raise UserError(f"{path}:{number}: expected a JSON object with {', '.join(map(repr, missing))}")
        clip_id = str(record["id"])
        if clip_id in records:
            raise UserError(f"{path}:{number}: id {clip_id!r} appears twice")
        records[clip_id] = record
    return records
