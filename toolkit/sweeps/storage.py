"""Where a study lives: a journal file on one machine (default), or a database URL shared by many machines.

Both storages mark the trials of a dead worker as failed and queue them again
(`RetryHeartbeatStaleTrialCallback`), so re-running a killed sweep finishes it without losing a trial:
- every running trial records a heartbeat each `heartbeat_interval` seconds; one whose heartbeat is older than
  `grace_period` is stale. Optuna's RDB storage does this natively; its journal storage has no heartbeat,
  so `HeartbeatJournalStorage` adds one (a trial system attribute).
- a trial also records the host and process id of its worker; on the same host a trial whose process is gone
  is stale at once, so a sweep re-run right after a crash does not wait out the grace period.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import socket
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from toolkit.errors import UserError

WORKER_ATTR = "v2m_worker"  # {"host": ..., "pid": ...} of the process running the trial
HEARTBEAT_ATTR = "v2m_heartbeat"  # unix time of the last heartbeat (journal storage only)

StaleCallback = Callable[["optuna.Study", FrozenTrial], None]


def journal_path(workdir: str | Path, name: str) -> Path:
    """The default journal file of sweep `name`."""
    return Path(workdir) / "optuna" / f"{name}.journal"


def open_storage(url: str | None, workdir: str | Path, name: str, heartbeat_interval: int, grace_period: int,
                 max_retry: int) -> BaseStorage:
    """The study storage: `url` None → the default journal file; a path → that journal file;
    `postgresql://…`, `mysql://…`, `sqlite:///…` → an RDB storage. Heartbeats and retries are on for both."""
    retry = RetryCallback(max_retry)
    if url and "://" in url:
        url = database_url(url)
        for attempt in range(OPEN_ATTEMPTS):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return WorkerAwareRDBStorage(url, heartbeat_interval=heartbeat_interval,
                                                 grace_period=grace_period, heartbeat_stale_trial_callback=retry)
            except Exception as err:  # SQLAlchemy reports bad URLs and missing drivers in many ways
                if attempt + 1 < OPEN_ATTEMPTS and _is_creation_race(err):
                    time.sleep(0.5 * (attempt + 1))  # another machine is creating the tables right now
                    continue
                raise UserError(f"--storage {masked_url(url)}: cannot open ({str(err).splitlines()[0]})") from None
    path = Path(url) if url else journal_path(workdir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    return HeartbeatJournalStorage(JournalFileBackend(str(path)), heartbeat_interval, grace_period, retry)


OPEN_ATTEMPTS = 4
POSTGRES_SCHEMES = ("postgresql", "postgres")


def database_url(url: str) -> str:
    """`url` with the PostgreSQL driver the toolkit supports named: `postgresql://…` (and `postgres://…`)
    becomes `postgresql+psycopg://…` (psycopg 3, the `postgres` extra); `UserError` in one line when it is
    not installed. Other URLs (an explicit `+driver`, sqlite, mysql) are passed on as given."""
    scheme, _, rest = url.partition("://")
    if scheme not in POSTGRES_SCHEMES and not scheme.startswith("postgresql+psycopg"):
        return url
    if importlib.util.find_spec("psycopg") is None:
        raise UserError(f"--storage {masked_url(url)}: the PostgreSQL driver is not installed; "
                        "pip install -e \".[postgres]\" (psycopg 3)")
    return f"postgresql+psycopg://{rest}" if scheme in POSTGRES_SCHEMES else url


def _is_creation_race(err: Exception) -> bool:
    """Two processes creating the study tables at once: one of them sees the other's half-made schema."""
    text = str(err).lower()
    return any(s in text for s in ("already exists", "duplicate key", "unique constraint", "deadlock"))


def masked_url(url: str) -> str:
    """A database URL with its password hidden, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parsable: show nothing of it that could be secret
        return url.split("://", 1)[0] + "://…"


def mark_worker(storage: BaseStorage, trial_id: int) -> None:
    """Record this process as the trial's worker (for the same-host liveness check)."""
    storage.set_trial_system_attr(trial_id, WORKER_ATTR, {"host": socket.gethostname(), "pid": os.getpid()})


def worker_is_dead(trial: FrozenTrial) -> bool:
    """True when the trial's worker ran on this host and its process no longer exists (or is a zombie)."""
    worker = trial.system_attrs.get(WORKER_ATTR)
    if not isinstance(worker, dict) or worker.get("host") != socket.gethostname():
        return False
    pid = int(worker.get("pid", -1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:  # a killed child not yet reaped by its parent still answers kill(0)
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class RetryCallback:
    """Optuna's retry callback (a WAITING copy with the same parameters), minus the dead worker's liveness
    attributes, so the copy is not itself taken for stale before its new worker marks it."""

    def __init__(self, max_retry: int):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self._retry = RetryHeartbeatStaleTrialCallback(max_retry=max_retry)

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        trial = copy.deepcopy(trial)
        trial.system_attrs = {k: v for k, v in trial.system_attrs.items() if k not in (WORKER_ATTR, HEARTBEAT_ATTR)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self._retry(study, trial)


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """Optuna's journal storage plus heartbeats, so stale trials are failed and retried as with RDB."""

    def __init__(self, backend: Any, heartbeat_interval: int, grace_period: int, callback: StaleCallback | None):
        super().__init__(backend)
        self._heartbeat_interval = heartbeat_interval
        self._grace_period = grace_period
        self._stale_callback = callback

    def record_heartbeat(self, trial_id: int) -> None:
        try:
            self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # the trial finished between two beats

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now = time.time()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            start = trial.datetime_start.timestamp() if trial.datetime_start else now
            last = float(trial.system_attrs.get(HEARTBEAT_ATTR, start))
            if now - last > self._grace_period or worker_is_dead(trial):
                stale.append(trial._trial_id)
        return stale

    def get_heartbeat_interval(self) -> int | None:
        return self._heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> StaleCallback | None:
        return self._stale_callback


class WorkerAwareRDBStorage(RDBStorage):
    """Optuna's RDB storage, whose stale trials also include those of dead processes on this host."""

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        stale = set(super()._get_stale_trial_ids(study_id))
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            if worker_is_dead(trial):
                stale.add(trial._trial_id)
        return sorted(stale)
