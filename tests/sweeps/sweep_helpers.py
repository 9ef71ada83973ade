"""Sweep-test helpers: tiny experiment and sweep files, working directories, and running the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

EXPERIMENT = "name: tiny\nseed: 0\nbackbone: {name: micro}\n"


def sweep_text(name: str, params: dict, **sections) -> str:
    """A demo-trial sweep file; `sections` replace objective/study/report."""
    doc = {
        "name": name,
        "experiment": "experiment.yaml",
        "trial": "demo",
        "objective": {"metrics": ["demo_quality"], "directions": ["minimize"]},
        "study": {"sampler": {"type": "grid", "seed": 0}},
        "params": params,
        "report": {"group_by": ["backbone.guidance"], "metrics": ["demo_quality", {"demo_score": "maximize"}]},
    }
    doc.update(sections)
    return yaml.safe_dump(doc, sort_keys=False)


def make_workdir(folder: Path, template: Path, sweep: str, sweep_name: str = "sweep.yaml") -> Path:
    """A working directory with the experiment, the sweep file and a copy of the empty MLflow database."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "experiment.yaml").write_text(EXPERIMENT)
    (folder / sweep_name).write_text(sweep)
    shutil.copy(template, folder / "mlflow.db")
    return folder / sweep_name


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `toolkit ...` in a subprocess (the user's view: exit code, stdout, stderr)."""
    full_env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "toolkit.cli", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
