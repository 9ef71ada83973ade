"""Cached builds: concurrent callers get one build and all load it; a build killed mid-way leaves nothing
that a later run trusts, and the next build clears its temporaries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from toolkit.utils.build_lock import cached_dir, lock_path

BUILDER = """
import sys, time
from pathlib import Path
from toolkit.utils.build_lock import cached_dir

target, log, pause = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])

def build(tmp):
    with open(log, "a") as f:
        f.write("built\\n")
    (tmp / "half").write_text("partial")
    time.sleep(pause)
    (tmp / "done").write_text("complete")

out = cached_dir(target, build, "a test build", complete=lambda p: (p / "done").is_file())
print((out / "done").read_text())
"""


def _start(target: Path, log: Path, pause: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BUILDER, str(target), str(log), str(pause)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _leftovers(target: Path) -> list[Path]:
    return [p for p in target.parent.glob(f".{target.name}.*") if p != lock_path(target)]


def test_two_processes_asking_at_once_get_one_build_and_two_loads(tmp_path):
    target, log = tmp_path / "thing", tmp_path / "log"
    procs = [_start(target, log, 2.0) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [out.strip() for out, _ in outs] == ["complete", "complete"]
    assert log.read_text().splitlines() == ["built"]
    assert sum("waiting for another process" in err for _, err in outs) == 1
    assert not _leftovers(target)


def test_a_build_killed_midway_leaves_no_trusted_entry_and_no_orphan_after_the_next(tmp_path):
    target, log = tmp_path / "thing", tmp_path / "log"
    proc = _start(target, log, 60.0)
    deadline = time.time() + 60
    while not any((p / "half").is_file() for p in _leftovers(target)) and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not target.exists() and _leftovers(target)  # only an untrusted temporary is left

    built = []
    out = cached_dir(target, lambda tmp: built.append((tmp / "done").write_text("complete")), "a test build",
                     complete=lambda p: (p / "done").is_file())
    assert built and (out / "done").read_text() == "complete" and not (out / "half").exists()
    assert not _leftovers(target)
