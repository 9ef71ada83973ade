"""Atomic file writes: a reader (or a crash) never sees a half-written file."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from toolkit.errors import UserError


def check_output_file(path: str | Path, what: str = "output") -> Path:
    """Raise `UserError` now, before any work, if `path` could not become a file (`what` names the option)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{what} {path}: is a directory")
    blocker = _non_directory_ancestor(path)
    if blocker is not None:
        raise UserError(f"{what} {path}: parent {blocker} is not a directory")
    return path


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it is renamed onto `target`, on error removed.

    The temporary file lives in the same directory so the final `os.replace` is atomic on POSIX.
    `suffix` defaults to the target's, so writers that pick a format by extension still work.
    The file gets the usual `0o666 & ~umask` mode, not mkstemp's private 0600.
    """
    target = Path(target)
    _make_parent(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix or target.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        try:
            os.replace(tmp_path, target)
        except (IsADirectoryError, NotADirectoryError) as err:
            raise UserError(f"{target}: is a directory, cannot write a file there") from err
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory beside `target`; on success it replaces `target` as a whole.

    An old `target` is renamed aside before the new one moves in and deleted only after, so `target` is
    missing for no longer than between two renames. The directory and its files get the usual modes
    (`0o777 & ~umask`, `0o666 & ~umask`), whatever the writers inside used.
    """
    # Resolved, so that "." or "sub/.." name a real entry of a real parent (the temp dir goes beside it).
    target = Path(target).resolve()
    _make_parent(target)
    if target.exists() and not target.is_dir():
        raise UserError(f"{target}: exists and is not a directory")
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    aside: Path | None = None
    try:
        yield tmp
        _usual_modes(tmp)
        try:
            if target.exists():
                # Renaming a directory onto an empty one is allowed, so a fresh mkdtemp name is a safe slot.
                aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old."))
                os.replace(target, aside)
            os.replace(tmp, target)
        except BaseException:
            if aside is not None and not target.exists():  # the old one was moved aside: put it back
                os.replace(aside, target)
                aside = None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write a text file atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def _make_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:
        raise UserError(f"{target}: parent {_non_directory_ancestor(target) or target.parent} "
                        "is not a directory") from err


def _non_directory_ancestor(path: Path) -> Path | None:
    """The nearest existing ancestor of `path` when it is not a directory (so `path` cannot be created)."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def _usual_modes(folder: Path) -> None:
    """Give `folder` and everything in it the usual modes: writers such as safetensors create files 0600."""
    umask = _umask()
    os.chmod(folder, 0o777 & ~umask)
    for path in folder.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_dir():
            os.chmod(path, 0o777 & ~umask)
        elif not path.stat().st_mode & 0o111:  # leave executables executable
            os.chmod(path, 0o666 & ~umask)


def _umask() -> int:
    # The umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
