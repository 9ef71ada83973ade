"""Sweeps across machines share one study in PostgreSQL: two sweep processes at once against a throw-away
server, one killed mid-trial; the study completes with every grid point once, the killed trial retried and
the MLflow runs consistent. A missing driver is one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.postgres_server import postgres_server

from .sweep_helpers import cli, make_workdir, sweep_text

GRID = {"backbone.guidance": "choice(1.0, 2.0, 3.0)", "seed": "choice(0, 1)"}


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


def _sweep(folder: Path, url: str, markers: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env |= {"V2M_DEMO_TRIAL_MARKERS": str(markers), "V2M_DEMO_TRIAL_SECONDS": "0.2"}
    return subprocess.Popen([sys.executable, "-m", "toolkit.cli", "sweep", "sweep.yaml", "--storage", url,
                             "--no-report"], cwd=folder, env=env, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _wait_for(path: Path, processes: list[subprocess.Popen], seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        for process in processes:
            assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.1)


@pytest.mark.slow
def test_two_sweep_processes_share_a_postgres_study_and_survive_a_kill(tmp_path, mlflow_template, postgres_url):
    import mlflow
    import optuna
    from optuna.trial import TrialState

    make_workdir(tmp_path, mlflow_template, sweep_text("shared", GRID))
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "hold-2").touch()  # the third trial to start blocks: its process is the one we kill
    first = _sweep(tmp_path, postgres_url, markers)
    _wait_for(markers / "started-0", [first])  # the study and its tables exist before the second process joins
    second = _sweep(tmp_path, postgres_url, markers)
    _wait_for(markers / "started-2", [first, second])
    victim_pid = int((markers / "started-2").read_text())
    victim, survivor = (first, second) if victim_pid in _family(first.pid) else (second, first)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    (markers / "hold-2").unlink()
    output, _ = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, output

    storage = optuna.storages.RDBStorage(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    trials = optuna.load_study(study_name="shared", storage=storage).get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    points = sorted((t.params["backbone.guidance"], t.params["seed"]) for t in complete)
    assert points == sorted((g, s) for g in (1.0, 2.0, 3.0) for s in (0, 1))  # every grid point once
    killed = [t for t in trials if t.state == TrialState.FAIL and "duplicate_of" not in t.user_attrs]
    assert len(killed) == 1 and killed[0].system_attrs["v2m_worker"]["pid"] == victim_pid  # retried as a copy
    assert survivor.pid in {t.system_attrs["v2m_worker"]["pid"] for t in complete}  # the survivor finished it

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("shared").experiment_id
    runs = [r for r in client.search_runs([experiment]) if r.data.tags.get("v2m.role") == "trial"]
    by_state: dict[str, int] = {}
    for run in runs:
        by_state[run.info.status] = by_state.get(run.info.status, 0) + 1
    assert by_state.get("FINISHED") == len(complete) + sum("duplicate_of" in t.user_attrs for t in trials)
    assert by_state.get("FAILED", 0) + by_state.get("RUNNING", 0) >= 1  # the killed trial's run is not finished
    studies = [r for r in client.search_runs([experiment]) if r.data.tags.get("v2m.role") == "study"]
    assert len(studies) == 1  # both processes logged under one study run


def _family(pid: int) -> set[int]:
    """`pid` and its descendants (a sweep runs its trials in the process itself or its workers)."""
    out = {pid}
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    except FileNotFoundError:
        return out
    for child in children:
        out |= _family(int(child))
    return out


def test_a_postgres_url_without_the_driver_is_one_line(tmp_path, mlflow_template, monkeypatch):
    import importlib.util

    import toolkit.sweeps.storage as storage

    real = importlib.util.find_spec
    monkeypatch.setattr(storage.importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else
                        real(name, *a))
    from toolkit.errors import UserError

    with pytest.raises(UserError, match=r'the PostgreSQL driver is not installed; pip install -e "\.\[postgres\]"'):
        storage.database_url("postgresql://user:secret@db.example:5432/sweeps")
    assert storage.database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_postgres_urls_name_the_psycopg_driver() -> None:
    from toolkit.sweeps.storage import database_url

    assert database_url("postgresql://u@h:1/d") == "postgresql+psycopg://u@h:1/d"
    assert database_url("postgres://u@h:1/d") == "postgresql+psycopg://u@h:1/d"
    assert database_url("postgresql+psycopg://u@h:1/d") == "postgresql+psycopg://u@h:1/d"


def test_a_bad_storage_url_exits_2_with_the_password_hidden(tmp_path, mlflow_template) -> None:
    make_workdir(tmp_path, mlflow_template, sweep_text("bad", GRID))
    result = cli("sweep", "sweep.yaml", "--storage", "postgresql://me:secret@127.0.0.1:1/none", cwd=tmp_path)
    assert result.returncode == 2 and "secret" not in result.stderr
    masked = "postgresql+psycopg://me:***@127.0.0.1:1/none"
    assert result.stderr.strip().startswith(f"error: --storage {masked}: cannot open")
