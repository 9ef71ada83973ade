"""Atomic writes: clear errors for impossible targets, usual permissions, and no moment without the target."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from toolkit.errors import UserError
from toolkit.utils import atomic
from toolkit.utils.atomic import atomic_dir, atomic_path, check_output_file, write_text_atomic


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_check_output_file_refuses_a_directory_and_a_file_parent(tmp_path: Path) -> None:
    (tmp_path / "dir.mp4").mkdir()
    (tmp_path / "file.mp4").write_bytes(b"x")
    with pytest.raises(UserError, match=r"^-o .*dir\.mp4: is a directory$"):
        check_output_file(tmp_path / "dir.mp4", "-o")
    with pytest.raises(UserError, match=r"x\.mp4: parent .*file\.mp4 is not a directory$"):
        check_output_file(tmp_path / "file.mp4" / "sub" / "x.mp4", "-o")
    assert check_output_file(tmp_path / "new" / "ok.mp4", "-o") == tmp_path / "new" / "ok.mp4"


def test_atomic_path_onto_a_directory_is_a_user_error_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "out.json").mkdir()
    with pytest.raises(UserError, match=r"out\.json: is a directory"):
        write_text_atomic(tmp_path / "out.json", "{}")
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    (tmp_path / "file").write_text("keep")
    with pytest.raises(UserError, match=r"x\.json: parent .*file is not a directory"):
        write_text_atomic(tmp_path / "file" / "x.json", "{}")
    assert (tmp_path / "file").read_text() == "keep"


def test_files_and_dirs_get_the_umask_mode_not_private_ones(tmp_path: Path, umask_022: None) -> None:
    write_text_atomic(tmp_path / "a.txt", "hi")
    with atomic_dir(tmp_path / "d") as tmp:
        (tmp / "f").write_text("x")
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755


def test_files_written_private_inside_an_atomic_dir_come_out_usual(tmp_path: Path, umask_022: None) -> None:
    import torch
    from safetensors.torch import save_file

    with atomic_dir(tmp_path / "d") as tmp:
        save_file({"w": torch.zeros(2)}, str(tmp / "w.safetensors"))  # safetensors writes 0600
        (tmp / "sub").mkdir(mode=0o700)
        (tmp / "sub" / "x").write_text("x")
        os.chmod(tmp / "sub" / "x", 0o600)
    assert (tmp_path / "d" / "w.safetensors").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d" / "sub").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "d" / "sub" / "x").stat().st_mode & 0o777 == 0o644


def test_atomic_dir_never_leaves_a_gap_without_the_target(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "world"
    with atomic_dir(target) as tmp:
        (tmp / "v").write_text("1")
    real_rmtree = shutil.rmtree
    seen = []

    def rmtree_and_look(path, *args, **kwargs):  # the old tree is deleted only once the new one is in place
        real_rmtree(path, *args, **kwargs)
        seen.append((target / "v").read_text() if target.is_dir() else None)

    monkeypatch.setattr(atomic.shutil, "rmtree", rmtree_and_look)
    with atomic_dir(target) as tmp:
        (tmp / "v").write_text("2")
    assert seen and all(v == "2" for v in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["world"]


def test_a_failed_replacement_keeps_the_old_dir(tmp_path: Path) -> None:
    target = tmp_path / "world"
    with atomic_dir(target) as tmp:
        (tmp / "v").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "v").write_text("2")
        raise RuntimeError("crash")
    assert (target / "v").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["world"]


def test_atomic_dir_on_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    with atomic_dir(".") as tmp:
        (tmp / "v").write_text("1")
    assert (tmp_path / "here" / "v").read_text() == "1"  # fresh lookup: the old inode was replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]


def test_atomic_path_cleans_up_on_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError), atomic_path(tmp_path / "x.bin") as tmp:
        tmp.write_bytes(b"half")
        raise ValueError
    assert list(tmp_path.iterdir()) == []
