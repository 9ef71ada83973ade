"""Crash safety and parallelism through the real CLI: SIGKILL mid-trial then resume; two workers on one grid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .sweep_helpers import cli, make_workdir, sweep_text

GRID = {"backbone.guidance": "choice(1.0, 2.0)", "seed": "choice(0, 1)"}


def _trials(folder: Path, name: str):
    import optuna

    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(os.fspath(folder / "optuna" / f"{name}.journal")))
    return optuna.load_study(study_name=name, storage=storage).get_trials()


def _finished_runs(folder: Path, name: str) -> list:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(name).experiment_id
    return [r for r in client.search_runs([experiment]) if r.data.tags.get("v2m.role") == "trial"]


@pytest.mark.slow
def test_a_sweep_killed_mid_trial_resumes_to_its_target(tmp_path: Path, mlflow_template: Path) -> None:
    from optuna.trial import TrialState

    make_workdir(tmp_path, mlflow_template, sweep_text("killed", GRID))
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "hold-2").touch()  # the third trial to start blocks until we kill the sweep
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["V2M_DEMO_TRIAL_MARKERS"] = str(markers)
    sweep = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "sweep", "sweep.yaml", "--no-report"],
                             cwd=tmp_path, env=env, start_new_session=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not (markers / "started-2").exists():
        assert sweep.poll() is None, sweep.stdout.read()
        assert time.monotonic() < deadline, "the sweep never reached its third trial"
        time.sleep(0.1)
    os.killpg(sweep.pid, signal.SIGKILL)
    sweep.wait()
    before = _trials(tmp_path, "killed")
    assert sorted(t.state.name for t in before) == ["COMPLETE", "COMPLETE", "RUNNING"]
    left = tmp_path / "trials" / "killed" / f"{before[-1].number:04d}"  # what a real trial had written by now
    (left / "run" / "checkpoint").mkdir(parents=True)
    (left / "run" / "checkpoint" / "adapters.safetensors").write_bytes(b"0" * 4096)

    (markers / "hold-2").unlink()
    result = cli("sweep", "sweep.yaml", cwd=tmp_path, env={"V2M_DEMO_TRIAL_MARKERS": str(markers)})
    assert result.returncode == 0, result.stderr
    after = _trials(tmp_path, "killed")
    complete = [t for t in after if t.state == TrialState.COMPLETE]
    points = {(t.params["backbone.guidance"], t.params["seed"]) for t in complete}
    assert len(complete) == 4 and points == {(1.0, 0), (1.0, 1), (2.0, 0), (2.0, 1)}  # none lost, none twice
    killed = next(t for t in after if t.number == before[-1].number)
    assert killed.state == TrialState.FAIL  # the dead worker's trial, re-run as a later trial
    assert not left.exists()  # its folder went; the complete trials' folders stay
    assert sorted(p.name for p in left.parent.iterdir()) == [f"{t.number:04d}" for t in complete]
    runs = _finished_runs(tmp_path, "killed")
    assert sorted(r.info.status for r in runs) == ["FAILED"] + ["FINISHED"] * 4
    assert "4 complete, 0 pruned, 0 failed" in result.stdout

    again = cli("sweep", "sweep.yaml", "--no-report", cwd=tmp_path)
    assert again.returncode == 0 and "started" not in again.stderr  # a finished sweep runs nothing
    assert len(_trials(tmp_path, "killed")) == len(after)


@pytest.mark.slow
def test_two_workers_cover_each_grid_point_once(tmp_path: Path, mlflow_template: Path) -> None:
    from optuna.trial import TrialState

    grid = {"backbone.guidance": "choice(1.0, 2.0, 3.0)", "seed": "choice(0, 1)"}
    make_workdir(tmp_path, mlflow_template, sweep_text("pair", grid))
    result = cli("sweep", "sweep.yaml", "--workers", "2", "--no-report", cwd=tmp_path,
                 env={"V2M_DEMO_TRIAL_SECONDS": "0.3"})  # long enough for the workers to overlap
    assert result.returncode == 0, result.stderr
    trials = _trials(tmp_path, "pair")
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    points = [(t.params["backbone.guidance"], t.params["seed"]) for t in complete]
    assert sorted(points) == sorted({(g, s) for g in (1.0, 2.0, 3.0) for s in (0, 1)})
    assert all(t.state != TrialState.FAIL or "duplicate_of" in t.user_attrs for t in trials)
    workers = {t.system_attrs["v2m_worker"]["pid"] for t in complete}
    assert len(workers) == 2  # both processes did work
    assert len(_finished_runs(tmp_path, "pair")) == len(trials)
