"""The feature cache: keys, hit/miss accounting, atomic writes under crashes, corrupt entries."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from toolkit.data import cache as cache_module
from toolkit.data.cache import FeatureCache, file_hash


def _counting(arrays: dict[str, np.ndarray]):
    calls = []

    def compute():
        calls.append(1)
        return arrays

    return compute, calls


def _entries(root: Path) -> list[Path]:
    """Entries and temporaries (the striped lock files under `.locks/` are neither)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and ".locks" not in p.relative_to(root).parts)


def test_file_hash_is_sha256_of_content_and_tracks_changes(tmp_path):
    f = tmp_path / "clip.mp4"
    f.write_bytes(b"abc" * 1_000_000)
    assert file_hash(f) == hashlib.sha256(b"abc" * 1_000_000).hexdigest()
    twin = tmp_path / "copy.mp4"
    twin.write_bytes(f.read_bytes())
    assert file_hash(twin) == file_hash(f)  # content, not name
    f.write_bytes(b"abd" * 1_000_000)  # same size: the mtime change must invalidate the memo
    assert file_hash(f) == hashlib.sha256(b"abd" * 1_000_000).hexdigest()


def test_default_root_is_under_the_user_cache(private_cache):
    assert FeatureCache().root == private_cache / "features"


def test_hits_and_misses_and_round_trip(tmp_path):
    cache = FeatureCache(tmp_path)
    arrays = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array(3.5),
        "s": np.array(["x", "yz"]),
    }
    compute, calls = _counting(arrays)
    first = cache.get_or_compute("h1", "ext", {"k": 1}, compute)
    second = cache.get_or_compute("h1", "ext", {"k": 1}, compute)
    assert (cache.hits, cache.misses, len(calls)) == (1, 1, 1)
    for out in (first, second):
        assert set(out) == set(arrays)
        for k in arrays:
            np.testing.assert_array_equal(out[k], arrays[k])
            assert out[k].dtype == arrays[k].dtype
    assert cache.summary() == "feature cache: 1 hits, 1 misses"
    # Sharded by key prefix.
    [entry] = _entries(tmp_path)
    assert entry.parent.name == entry.stem[:2] and entry.suffix == ".npz"


@pytest.mark.parametrize(
    "change",
    [
        ("h2", "ext", {"k": 1}),
        ("h1", "other", {"k": 1}),
        ("h1", "ext", {"k": 2}),
        ("h1", "ext", {"k": 1, "extra": None}),
        ("h1", "ext", {"k": 1, "reader": {"fps": 4}}),
    ],
)
def test_any_key_part_changed_misses(tmp_path, change):
    cache = FeatureCache(tmp_path)
    compute, calls = _counting({"a": np.zeros(2)})
    cache.get_or_compute("h1", "ext", {"k": 1}, compute)
    cache.get_or_compute(*change, compute)
    assert (cache.hits, cache.misses, len(calls)) == (0, 2, 2)


def test_equal_configs_share_a_key(tmp_path):
    cache = FeatureCache(tmp_path)
    a = cache.key("h", "ext", {"fps": 8, "sizes": (1, 2), "x": np.float32(0.5), "nested": {"b": 1, "a": 2}})
    b = cache.key("h", "ext", {"nested": {"a": 2, "b": 1}, "x": 0.5, "sizes": [1, 2], "fps": 8.0})
    assert a == b


def test_format_version_is_part_of_the_key(tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path)
    before = cache.key("h", "ext", {})
    monkeypatch.setattr(cache_module, "FEATURE_FORMAT_VERSION", cache_module.FEATURE_FORMAT_VERSION + 1)
    assert cache.key("h", "ext", {}) != before


def test_unserialisable_config_is_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot be part of a cache key"):
        FeatureCache(tmp_path).key("h", "ext", {"fn": print})


def test_crash_mid_write_leaves_no_entry_and_next_call_computes(tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path)
    real_savez = np.savez

    def partial_then_crash(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(np, "savez", partial_then_crash)
    with pytest.raises(KeyboardInterrupt):
        cache.get_or_compute("h", "ext", {}, lambda: {"a": np.ones(3)})
    assert _entries(tmp_path) == []  # no entry, and no temporary left behind either

    monkeypatch.setattr(np, "savez", real_savez)
    compute, calls = _counting({"a": np.ones(3)})
    np.testing.assert_array_equal(cache.get_or_compute("h", "ext", {}, compute)["a"], np.ones(3))
    assert len(calls) == 1 and cache.misses == 2


def test_process_killed_mid_write_leaves_no_entry(tmp_path):
    """A hard kill (no exception handlers run) mid-write: at most a hidden temporary, never an entry."""
    script = textwrap.dedent(
        f"""
        import os, numpy as np
        from toolkit.data.cache import FeatureCache
        def die_half_way(file, **arrays):
            file.write(b"PK\\x03\\x04" + bytes(1000)); file.flush(); os._exit(9)
        np.savez = die_half_way
        FeatureCache({str(tmp_path)!r}).get_or_compute("h", "ext", {{}}, lambda: {{"a": np.ones(3)}})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    cache = FeatureCache(tmp_path)
    assert not cache.path(cache.key("h", "ext", {})).exists()
    assert all(p.name.startswith(".") for p in _entries(tmp_path))  # only the orphaned temporary
    compute, calls = _counting({"a": np.ones(3)})
    cache.get_or_compute("h", "ext", {}, compute)
    cache.get_or_compute("h", "ext", {}, compute)
    assert (len(calls), cache.hits, cache.misses) == (1, 1, 1)
    # Recomputing the entry under its lock removed the dead writer's temporary: only the entry is left.
    assert _entries(tmp_path) == [cache.path(cache.key("h", "ext", {}))]
    assert cache.remove_orphans(min_age_s=-1) == 0
    assert [p.suffix for p in _entries(tmp_path)] == [".npz"] and cache.get_or_compute("h", "ext", {}, compute)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_entry_is_a_miss_and_is_rewritten(tmp_path, damage):
    cache = FeatureCache(tmp_path)
    arrays = {"a": np.arange(1000, dtype=np.float64)}
    cache.get_or_compute("h", "ext", {}, lambda: arrays)
    path = cache.path(cache.key("h", "ext", {}))
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00garbage" * 50, "empty": b""}[damage])

    compute, calls = _counting(arrays)
    out = cache.get_or_compute("h", "ext", {}, compute)
    np.testing.assert_array_equal(out["a"], arrays["a"])
    assert len(calls) == 1 and (cache.hits, cache.misses) == (0, 2)
    assert path.read_bytes() == data  # rewritten whole
    cache.get_or_compute("h", "ext", {}, compute)
    assert cache.hits == 1 and len(calls) == 1


def test_bit_flip_inside_the_data_is_detected(tmp_path):
    cache = FeatureCache(tmp_path)
    arrays = {"a": np.arange(1000, dtype=np.float64)}
    cache.get_or_compute("h", "ext", {}, lambda: arrays)
    path = cache.path(cache.key("h", "ext", {}))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the array payload: only the zip CRC can notice
    path.write_bytes(bytes(data))
    compute, calls = _counting(arrays)
    np.testing.assert_array_equal(cache.get_or_compute("h", "ext", {}, compute)["a"], arrays["a"])
    assert len(calls) == 1


def test_failed_compute_stores_nothing(tmp_path):
    cache = FeatureCache(tmp_path)

    def boom():
        raise RuntimeError("extractor failed")

    with pytest.raises(RuntimeError, match="extractor failed"):
        cache.get_or_compute("h", "ext", {}, boom)
    assert _entries(tmp_path) == []


@pytest.mark.parametrize("bad", [{}, [np.ones(2)], {"a": np.array([{"x": 1}], dtype=object)}])
def test_bad_compute_results_are_refused(tmp_path, bad):
    with pytest.raises(TypeError, match="extractor 'ext'"):
        FeatureCache(tmp_path).get_or_compute("h", "ext", {}, lambda: bad)
    assert _entries(tmp_path) == []
