"""One process builds a cached thing, the others wait and load it; dead builds leave nothing trusted behind.

Every cached build (the micro world, the micro backbone, the style classifier, feature entries, numba's cache)
goes through `exclusive_build`: an `flock` on a hidden `.<name>.lock` file beside the target, held while the
build runs. `flock` is released by the kernel when its holder dies, so a killed build never blocks the next.
Builds write into temporaries beside the target (`atomic_dir` / `atomic_path` name them `.<name>.*`) that are
renamed into place only when complete; whoever holds the lock knows no build is running, so it removes the
temporaries that killed builds left behind before building again.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from toolkit.utils.atomic import atomic_dir


def lock_path(target: Path) -> Path:
    """The lock file of `target`'s build: hidden, beside it."""
    return target.parent / f".{target.name}.lock"


@contextlib.contextmanager
def exclusive_build(target: str | Path, what: str, quiet: bool = False, lock: Path | None = None) -> Iterator[None]:
    """Hold the cross-process lock on building `target`; say so on stderr when another process holds it.

    `lock` replaces the default lock file (many small entries share a few striped locks rather than one
    file each). On entry the temporaries of dead builds of `target` are removed (no one else is writing them).
    """
    target = Path(target)
    lock = lock or lock_path(target)
    lock.parent.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not quiet:
                print(f"waiting for another process that is building {what} ({target})", file=sys.stderr,
                      flush=True)
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        remove_dead_temporaries(target)
        yield  # the lock is released when the file closes


def remove_dead_temporaries(target: Path) -> int:
    """Delete `.<name>.*` files and folders beside `target` other than its lock; call only under the lock."""
    removed = 0
    for path in target.parent.glob(f".{target.name}.*"):
        if path == lock_path(target):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed


def cached_dir(target: str | Path, build: Callable[[Path], None], what: str,
               complete: Callable[[Path], bool] | None = None) -> Path:
    """`target`, built once by `build(tmp)` into a temporary folder that replaces it whole when done.

    `complete(target)` says whether a finished build is there (default: the folder exists). Concurrent callers
    wait on the lock and then find the build done; a build killed at any point leaves no `target`.
    """
    target = Path(target)
    complete = complete or Path.is_dir
    if complete(target):
        return target
    with exclusive_build(target, what):
        if not complete(target):
            with atomic_dir(target) as tmp:
                build(tmp)
    return target

