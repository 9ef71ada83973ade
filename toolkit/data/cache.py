"""The content-addressed feature cache: one `.npz` per (input content, extractor, config), atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.utils.atomic import atomic_path
from toolkit.utils.build_lock import exclusive_build
from toolkit.utils.paths import cache_root

# Bump when the on-disk layout or the meaning of stored arrays changes: every old entry then misses.
FEATURE_FORMAT_VERSION = 1

_CHUNK = 1 << 20
_hash_memo: dict[tuple[str, int, int], str] = {}
log = logging.getLogger(__name__)


def file_hash(path: str | Path) -> str:
    """The sha256 of a file's content (hex), streamed; memoised on (path, size, mtime_ns) within a process."""
    path = Path(path).resolve()
    stat = path.stat()
    memo_key = (str(path), stat.st_size, stat.st_mtime_ns)
    if (digest := _hash_memo.get(memo_key)) is None:
        sha = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                sha.update(chunk)
        digest = _hash_memo[memo_key] = sha.hexdigest()
    return digest


def _canonical(value: Any) -> Any:
    """A JSON-ready copy where equal settings serialise equally (8 and 8.0, tuples/lists, numpy scalars)."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"feature config value {value!r} ({type(value).__name__}) cannot be part of a cache key")


def canonical_json(config: dict) -> str:
    """Config as compact JSON with sorted keys: the form that goes into a cache key."""
    return json.dumps(_canonical(config), sort_keys=True, separators=(",", ":"))


class FeatureCache:
    """Stores extractor outputs (`dict[str, np.ndarray]`) keyed by input content hash + extractor + config.

    Entries live at `root/<key[:2]>/<key>.npz`. A write appears only when complete (a crash leaves no entry);
    an unreadable entry counts as a miss and is recomputed and rewritten. Safe to share between processes:
    one process computes a missing entry under its lock while the others wait and read it.
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else cache_root() / "features"
        self.hits = 0
        self.misses = 0

    def key(self, content_hash: str, name: str, config: dict) -> str:
        """The entry key: sha256 over content hash, extractor name, canonical config and format version."""
        payload = json.dumps(
            [FEATURE_FORMAT_VERSION, content_hash, name, canonical_json(config)], separators=(",", ":")
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def path(self, key: str) -> Path:
        """Where the entry for `key` lives (sharded by the first two hex digits to keep directories small)."""
        return self.root / key[:2] / f"{key}.npz"

    def get_or_compute(
        self,
        content_hash: str,
        name: str,
        config: dict,
        compute: Callable[[], dict[str, np.ndarray]],
    ) -> dict[str, np.ndarray]:
        """The cached arrays for this key, or `compute()`'s, stored first. Exceptions from `compute` propagate
        and store nothing."""
        key = self.key(content_hash, name, config)
        path = self.path(key)
        if (arrays := self._load(path)) is not None:
            self.hits += 1
            return arrays
        # One process computes an entry; another that needs it meanwhile waits and reads the result.
        # Striped by shard: 256 lock files in `.locks/` rather than one beside every entry.
        with exclusive_build(path, f"{name} features", quiet=True, lock=self.root / ".locks" / f"{key[:2]}.lock"):
            if (arrays := self._load(path)) is not None:
                self.hits += 1
                return arrays
            self.misses += 1
            arrays = _checked(compute(), name)
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, **arrays)
        return arrays

    def summary(self) -> str:
        """One line for progress output, e.g. 'feature cache: 10 hits, 2 misses'."""
        return f"feature cache: {self.hits} hits, {self.misses} misses"

    def remove_orphans(self, min_age_s: float = 3600.0) -> int:
        """Delete temporaries left by writers killed mid-write (hidden `.<key>.npz.*` files) older than
        `min_age_s`, so writes in progress elsewhere are untouched. Returns how many were removed."""
        cutoff = time.time() - min_age_s
        orphans = [p for p in self.root.glob("*/.*.npz.*") if p.is_file() and p.stat().st_mtime < cutoff]
        for p in orphans:
            p.unlink(missing_ok=True)
        return len(orphans)

    def _load(self, path: Path) -> dict[str, np.ndarray] | None:
        if not path.exists():
            return None
        try:
            # Read every member now: zip CRC checks run on read, so truncation or bit rot surfaces here.
            with np.load(path, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
            log.warning("feature cache: unreadable entry %s (%s); recomputing", path.name, e)
            path.unlink(missing_ok=True)
            return None


def _checked(arrays: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    """Arrays as plain numeric numpy arrays (what `.npz` without pickle can hold), or a clear error."""
    if not isinstance(arrays, dict) or not arrays:
        raise TypeError(f"extractor {name!r} must return a non-empty dict of arrays, got {type(arrays).__name__}")
    out = {}
    for k, v in arrays.items():
        arr = np.asarray(v)
        if arr.dtype == object:
            raise TypeError(f"extractor {name!r} output {k!r} is an object array; store numbers or strings")
        out[str(k)] = arr
    return out


def clear_hash_memo() -> None:
    """Forget memoised file hashes (for tests and long-lived processes that rewrite files in place)."""
    _hash_memo.clear()
