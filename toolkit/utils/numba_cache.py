"""numba's on-disk cache for librosa, owned by the toolkit, so onset and beat detection never segfault.

numba writes the two cache files of a `@guvectorize(cache=True)` function (librosa's `peak_pick`, `localmax`,
...) with separate renames. When two processes compile at once their files can mix, and every later process
that loads the mix jumps to a null pointer (numba/numba#10128, librosa/librosa#1998). The toolkit starts
several processes itself (feature pools, sweep workers), and users run several terminals. So:

- numba caches into a folder of the toolkit's own, one per toolkit/numba/llvmlite/librosa/numpy/Python
  version (`cache_root()/numba/...`), set through `NUMBA_CACHE_DIR` before numba is imported (this
  replaces a `NUMBA_CACHE_DIR` of the user's, which no lock of ours would guard);
- the folder is filled by one process at a time: under a cross-process lock, a child process imports librosa
  and runs every librosa function the toolkit calls, which compiles what is missing and loads the rest;
- only a folder that such a child got through is trusted: its files' digest is recorded in `verified.json`.
  A folder whose files differ from the record (a planted or half-written cache, one mixed by a race outside
  the toolkit) is checked again by a child; if the child dies (SIGSEGV), the folder is wiped and rebuilt,
  with one warning line.

`install()` runs when `toolkit` is imported and only sets the folder and an import hook; the check runs the
first time librosa is actually imported in the process (not when a library merely probes for it), so
commands that never detect onsets, and configs refused at load, pay nothing.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from toolkit.utils.atomic import write_text_atomic
from toolkit.utils.build_lock import exclusive_build
from toolkit.utils.paths import cache_root

NUMBA_DIR_ENV = "V2M_NUMBA_CACHE_DIR"
CHILD_ENV = "V2M_NUMBA_CHECK_CHILD"  # set in the checking child: it must not check itself
MARKER = "verified.json"
CHILD_CODE = "from toolkit.utils.numba_warmup import exercise_librosa; exercise_librosa()"
_prepared: set[str] = set()


def numba_cache_dir() -> Path:
    """The toolkit's numba cache folder for the installed versions (compiled code depends on each of them);
    `$V2M_NUMBA_CACHE_DIR` overrides it (the test suite shares one folder across its private user caches)."""
    if env := os.environ.get(NUMBA_DIR_ENV):
        return Path(env).expanduser()
    versions = [f"py{sys.version_info.major}.{sys.version_info.minor}"]
    for dist in ("v2m-toolkit", "numba", "llvmlite", "librosa", "numpy"):
        try:
            versions.append(f"{dist}-{metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist}-none")
    return cache_root() / "numba" / "_".join(versions)


def install() -> None:
    """Point numba at the toolkit's folder and check that folder before librosa is first imported."""
    if os.environ.get(CHILD_ENV):  # the checking child: its parent chose the folder
        return
    _use(numba_cache_dir())
    if "librosa" in sys.modules:  # too late to choose numba's folder for librosa in this process
        return
    if not any(isinstance(finder, _BeforeLibrosa) for finder in sys.meta_path):
        sys.meta_path.insert(0, _BeforeLibrosa())


def prepare_numba_cache(folder: Path | None = None) -> Path:
    """Make `folder` (default: the toolkit's) a cache every process can load: verified, else checked by a
    child under the lock, wiped and rebuilt if that child crashes. Returns the folder numba uses."""
    folder = Path(folder) if folder is not None else numba_cache_dir()
    if os.environ.get(CHILD_ENV) or str(folder) in _prepared:
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # an unwritable cache: compile privately rather than share
        private = Path(tempfile.mkdtemp(prefix="v2m-numba-"))
        print(f"warning: numba cache {folder} is not writable ({err.strerror}); using {private}", file=sys.stderr)
        _use(private)
        return private
    _use(folder)
    if not _verified(folder):
        with exclusive_build(folder, "numba's librosa cache"):
            if not _verified(folder):
                _check_and_repair(folder)
    _prepared.add(str(folder))
    return folder


def _check_and_repair(folder: Path) -> None:
    had_files = bool(_cache_files(folder))
    if not had_files:
        print(f"compiling librosa's numba functions into {folder} (once per version; about a minute)",
              file=sys.stderr, flush=True)
    code, why = _run_child(folder)
    if code != 0 and had_files:
        print(f"warning: numba cache {folder} was corrupt (a process loading it {why}); rebuilding it",
              file=sys.stderr, flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        code, why = _run_child(folder)
    if code != 0:
        print(f"warning: librosa's numba functions failed to compile into {folder} ({why})", file=sys.stderr)
        return
    write_text_atomic(folder / MARKER, json.dumps({"digest": _digest(folder)}) + "\n")


def _run_child(folder: Path) -> tuple[int, str]:
    """Run the librosa exercise in a fresh interpreter on `folder`: `(exit code, how it ended)`."""
    env = {**os.environ, CHILD_ENV: "1", "NUMBA_CACHE_DIR": str(folder)}
    done = subprocess.run([sys.executable, "-c", CHILD_CODE], env=env, capture_output=True, text=True)
    if done.returncode < 0:
        return done.returncode, f"died with {signal.Signals(-done.returncode).name}"
    last = (done.stderr.strip().splitlines() or [""])[-1]
    return done.returncode, f"exit code {done.returncode}: {last}" if done.returncode else "ok"


def _verified(folder: Path) -> bool:
    try:
        recorded = json.loads((folder / MARKER).read_text())["digest"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return recorded == _digest(folder)


def _cache_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MARKER)


def _digest(folder: Path) -> str:
    """sha256 over every cache file's relative path and bytes (a few MB: milliseconds)."""
    digest = hashlib.sha256()
    for path in _cache_files(folder):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _use(folder: Path) -> None:
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    config = sys.modules.get("numba.core.config")
    if config is not None:  # numba already imported: functions decorated from now on use the folder
        config.CACHE_DIR = str(folder)


class _BeforeLibrosa(importlib.abc.MetaPathFinder):
    """A `sys.meta_path` entry that wraps librosa's loader, so the cache is prepared when librosa is really
    imported. Probes such as `importlib.util.find_spec("librosa")` (transformers makes them on import) only
    find the spec and compile nothing."""

    def find_spec(self, name: str, path=None, target=None):  # noqa: ANN001 (importlib's protocol)
        if name != "librosa":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PreparingLoader(spec.loader)
        return spec


class _PreparingLoader(importlib.abc.Loader):
    """librosa's own loader, run after `prepare_numba_cache()`; then the hook steps aside."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec):  # noqa: ANN001, ANN201
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:  # noqa: ANN001
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _BeforeLibrosa)]
        prepare_numba_cache()
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
