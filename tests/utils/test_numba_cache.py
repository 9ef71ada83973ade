"""numba's cache for librosa never crashes the toolkit: a cache mixed by two compiling processes (numba#10128)
is detected and rebuilt, and processes that start on an empty cache at once compile it once, safely."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.utils.numba_cache import CHILD_CODE, CHILD_ENV, MARKER, NUMBA_DIR_ENV, prepare_numba_cache

ONSETS = ("import numpy as np; y = np.random.default_rng(0).standard_normal(22050).astype(np.float32); "
          "import librosa; print(len(librosa.onset.onset_detect(y=y, sr=22050)))")


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in (NUMBA_DIR_ENV, CHILD_ENV, "NUMBA_CACHE_DIR")}
    return subprocess.run([sys.executable, "-c", code], env={**full, **env}, capture_output=True, text=True,
                          timeout=600)


def _mixed_cache(good: Path, work: Path) -> Path:
    """`good` with `__peak_pick`'s gufunc wrapper taken from a process that compiled only that function: the
    wrapper then names its kernel by another ABI tag than the kernel file holds (the race's outcome)."""
    partial = work / "partial"
    shutil.copytree(good, partial, ignore=shutil.ignore_patterns("*__peak_pick*", MARKER))
    assert _run(CHILD_CODE, NUMBA_CACHE_DIR=str(partial), **{CHILD_ENV: "1"}).returncode == 0
    wrappers = list(partial.rglob("guf-*__peak_pick*"))
    assert wrappers, "librosa's peak_pick gufunc is no longer cached under this name: update the test"
    mixed = work / "mixed"
    shutil.copytree(good, mixed, ignore=shutil.ignore_patterns(MARKER))
    for path in wrappers:
        shutil.copy(path, mixed / path.relative_to(partial))
    return mixed


@pytest.mark.slow
def test_a_mixed_cache_is_detected_and_rebuilt(tmp_path):
    mixed = _mixed_cache(Path(os.environ[NUMBA_DIR_ENV]), tmp_path)
    control = tmp_path / "control"
    shutil.copytree(mixed, control)
    crashed = _run(ONSETS, NUMBA_CACHE_DIR=str(control))  # librosa alone, on the same files
    assert crashed.returncode == -signal.SIGSEGV

    first = _run("import toolkit; " + ONSETS, **{NUMBA_DIR_ENV: str(mixed)})
    assert first.returncode == 0, first.stderr
    warnings = [line for line in first.stderr.splitlines() if "corrupt" in line]
    assert len(warnings) == 1 and str(mixed) in warnings[0] and "SIGSEGV" in warnings[0]
    again = _run("import toolkit; " + ONSETS, **{NUMBA_DIR_ENV: str(mixed)})
    assert again.returncode == 0 and "warning" not in again.stderr and "compiling" not in again.stderr


@pytest.mark.slow
def test_two_processes_on_an_empty_cache_compile_once_and_a_third_loads_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", CHILD_ENV)}
    env.update({NUMBA_DIR_ENV: str(tmp_path / "fresh")})
    code = "import toolkit; " + ONSETS
    both = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errs = [p.communicate(timeout=600)[1] for p in both]
    assert [p.returncode for p in both] == [0, 0], errs
    assert sum(e.count("compiling librosa") for e in errs) == 1
    marker = tmp_path / "fresh" / MARKER
    recorded = json.loads(marker.read_text())
    third = _run(code, **{NUMBA_DIR_ENV: str(tmp_path / "fresh")})
    assert third.returncode == 0 and third.stderr == ""
    assert json.loads(marker.read_text()) == recorded  # loaded, not rebuilt or re-checked


def test_a_changed_file_is_checked_again(tmp_path, monkeypatch, capfd):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "a.nbi").write_bytes(b"index")
    calls = []
    monkeypatch.setattr("toolkit.utils.numba_cache._run_child", lambda f: calls.append(f) or (0, "ok"))
    prepare_numba_cache(folder)
    assert calls == [folder] and (folder / MARKER).is_file()
    monkeypatch.setattr("toolkit.utils.numba_cache._prepared", set())
    prepare_numba_cache(folder)
    assert len(calls) == 1  # verified: no child
    (folder / "a.nbi").write_bytes(b"other")
    monkeypatch.setattr("toolkit.utils.numba_cache._prepared", set())
    prepare_numba_cache(folder)
    assert len(calls) == 2


def test_a_crashing_check_wipes_and_rebuilds_once(tmp_path, monkeypatch, capfd):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "bad.nbc").write_bytes(b"mixed")
    results = iter([(-11, "died with SIGSEGV"), (0, "ok")])
    monkeypatch.setattr("toolkit.utils.numba_cache._run_child", lambda f: next(results))
    prepare_numba_cache(folder)
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "corrupt" in err and "SIGSEGV" in err
    assert not (folder / "bad.nbc").exists() and (folder / MARKER).is_file()


def test_probing_for_librosa_prepares_nothing(tmp_path):
    """transformers asks `find_spec("librosa")` on import: that must not compile or create the cache (a config
    refused at load must not start any build)."""
    folder = tmp_path / "numba"
    probe = _run("import importlib.util, toolkit, transformers, sys; "
                 "assert importlib.util.find_spec('librosa') is not None; assert 'librosa' not in sys.modules",
                 **{NUMBA_DIR_ENV: str(folder)})
    assert probe.returncode == 0, probe.stderr
    assert not folder.exists()
