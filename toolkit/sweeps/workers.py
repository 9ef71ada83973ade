"""Run a sweep: create (or resume) its study and MLflow parent run, then top the study up with N workers.

Workers are separate processes sharing the study's storage (journal file or database). None of them
duplicates a grid point: Optuna's grid sampler hands out points not yet finished or running, trial numbers
below the grid size map to distinct points, and a worker that still draws a taken point records it as a
duplicate (not counted) and stops. When the workers are done this process checks the study once more and
finishes any trial a dead worker left behind.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable
from pathlib import Path

from toolkit.errors import UserError
from toolkit.sweeps import tracking
from toolkit.sweeps.spec import SweepSpec
from toolkit.sweeps.storage import journal_path, masked_url, open_storage
from toolkit.sweeps.study import (
    Progress,
    open_study,
    progress,
    remove_failed_trial_dirs,
    requeued_numbers,
    run_worker,
)
from toolkit.sweeps.trial import get_trial
from toolkit.utils import mlflow_store


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def storage_label(storage_url: str | None, workdir: Path, name: str) -> str:
    """Where the study lives, for messages (passwords in database URLs are masked)."""
    if storage_url and "://" in storage_url:
        return masked_url(storage_url)
    return str(Path(storage_url) if storage_url else journal_path(workdir, name))


def _open(spec: SweepSpec, storage_url: str | None, workdir: Path):
    s = spec.study
    return open_storage(storage_url, workdir, spec.name, s.heartbeat_interval, s.grace_period, s.max_retry)


def run_sweep(spec: SweepSpec, workers: int = 1, storage_url: str | None = None, workdir: str | Path = ".",
              log: Callable[[str], None] = _stderr) -> Progress:
    """Bring the sweep's study up to `spec.study.n_trials` and return where it stands."""
    if workers < 1:
        raise UserError(f"--workers {workers}: expected at least 1")
    workdir = Path(workdir)
    trial_fn = get_trial(spec.trial)  # an unavailable trial fails before anything is written
    storage = _open(spec, storage_url, workdir)
    study = open_study(spec, storage)  # created here once, before workers race to load it
    label = storage_label(storage_url, workdir, spec.name)
    log(f"sweep {spec.name}: target {spec.study.n_trials} trials, study in {label} holds {progress(study)}")
    setup = getattr(trial_fn, "setup", None)  # what every trial shares (data, features, backbone): build it once
    if setup is not None and workers > 1 and progress(study).counted < spec.study.n_trials:
        from toolkit.config import load_config

        setup(load_config(spec.experiment, spec.overrides({})))
    experiment = mlflow_store.experiment_id(spec.name)
    parent = tracking.start_study_run(spec, label)
    log(f"MLflow: experiment {spec.name!r} at {mlflow_store.tracking_uri()}, study run {parent}")
    status = "FAILED"
    try:
        if workers > 1:
            _run_processes(spec, workers, storage_url, workdir, experiment, parent)
        run_worker(spec, storage, workdir, experiment, parent, trial_fn, log=log)  # also mops up after others
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        _close_dead_runs(study)
        remove_failed_trial_dirs(study, workdir, spec.name)  # e.g. the trial a Ctrl-C just re-queued
        tracking.end_study_run(parent, status)
    return progress(study)


def _close_dead_runs(study) -> None:
    """A killed worker leaves its trial's MLflow run RUNNING; once Optuna re-queued the trial, end that run."""
    trials = study.get_trials(deepcopy=False)
    requeued = requeued_numbers(trials)
    dead = {t.user_attrs["mlflow_run_id"]: "worker died or was interrupted; re-run as a later trial"
            for t in trials if t.number in requeued and "mlflow_run_id" in t.user_attrs}
    if dead:
        tracking.close_dead_runs(dead)


def _run_processes(spec: SweepSpec, workers: int, storage_url: str | None, workdir: Path, experiment: str,
                   parent: str) -> None:
    context = multiprocessing.get_context("spawn")  # a clean interpreter each: no forked MLflow/SQLite state
    processes = [
        context.Process(target=_worker_main, args=(spec, storage_url, workdir, experiment, parent, index),
                        name=f"sweep-worker-{index}")
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        for process in processes:
            process.terminate()
        raise
    for process in processes:
        if process.exitcode != 0:
            _stderr(f"warning: {process.name} exited with code {process.exitcode}; its trials are re-run")


def _worker_main(spec: SweepSpec, storage_url: str | None, workdir: Path, experiment: str, parent: str,
                 index: int) -> None:
    storage = _open(spec, storage_url, workdir)
    ran = run_worker(spec, storage, workdir, experiment, parent, get_trial(spec.trial), worker_index=index,
                     log=lambda line: _stderr(f"[worker {index}] {line}"))
    _stderr(f"[worker {index}] done after {ran} trial(s)")
