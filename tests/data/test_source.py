"""Where clips come from: concurrent runs share one build of the micro world."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

import toolkit.data.world as world_package
from toolkit.data.source import dataset_root


def test_concurrent_callers_build_the_world_once(monkeypatch: pytest.MonkeyPatch) -> None:
    builds = []

    def slow_build(out: Path, **kwargs) -> Path:
        builds.append(out)
        time.sleep(0.5)  # long enough for the other caller to arrive while this one builds
        out.mkdir(parents=True)
        (out / "manifest.jsonl").write_text("")
        return out

    monkeypatch.setattr(world_package, "build_world", slow_build)
    world = {"clips": 3, "seconds": 2.0, "seed": 7, "storyboards": 0.35, "offbeat_cuts": 0.3}
    cfg = OmegaConf.create({"data": {"root": None, "world": world}})
    roots: list[Path] = []
    callers = [threading.Thread(target=lambda: roots.append(dataset_root(cfg, progress=False))) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(builds) == 1
    assert len(roots) == 2 and roots[0] == roots[1] and (roots[0] / "manifest.jsonl").is_file()
