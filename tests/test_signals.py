"""Stopping the CLI: SIGTERM (scancel, `timeout`, `docker stop`) and Ctrl-C exit cleanly and leave no temp files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _default_sigint() -> None:
    """Ctrl-C as a terminal job gets it: a shell starts background jobs (`cmd &`, as a CI runner may) with SIGINT
    ignored, which children inherit and Python then keeps; restore the default so the test means the same
    everywhere."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_world_build(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """A 40-clip world build, returned once its workers are writing clips into the temp dir."""
    out = tmp_path / "w"
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "world", "build", "--out", str(out),
                             "--clips", "40", "--workers", "2"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,  # its own process group, as a terminal job has
                            preexec_fn=_default_sigint)
    deadline = time.monotonic() + 120
    while not any(tmp_path.glob(".w.*/clips/*.wav")):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the build never started writing clips: {proc.communicate()[1][-2000:]}")
        time.sleep(0.1)
    return proc, out


@pytest.mark.slow
def test_sigterm_removes_the_temp_dir_and_exits_143(tmp_path: Path) -> None:
    proc, out = _start_world_build(tmp_path)
    proc.send_signal(signal.SIGTERM)  # to the main process only, as `timeout` and `kill` do
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr[-2000:]
    assert stderr.strip().splitlines()[-1] == "terminated"
    assert "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither the world nor its temp dir
    assert not out.exists()


@pytest.mark.slow
def test_ctrl_c_stops_the_workers_quietly_and_exits_130(tmp_path: Path) -> None:
    proc, _ = _start_world_build(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches every process of the job
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert stderr.strip().splitlines()[-1] == "interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == []
