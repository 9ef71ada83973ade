"""The study's target arithmetic, dead-worker detection and the pruning callback (no MLflow involved)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from toolkit.errors import UserError
from toolkit.sweeps.storage import WORKER_ATTR, open_storage, worker_is_dead
from toolkit.sweeps.study import _Reporter, fail_stale_trials, progress, remove_failed_trial_dirs, trial_dir
from toolkit.sweeps.trial import TRIALS, TrialResult, get_trial, register_trial

pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage")

DIST = {"x": FloatDistribution(0, 10)}


def _journal(tmp_path: Path, grace: int = 60):
    return open_storage(None, tmp_path, "s", heartbeat_interval=1, grace_period=grace, max_retry=2)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_target_counts_finished_trials_but_not_requeued_ones(tmp_path: Path) -> None:
    study = optuna.create_study(storage=_journal(tmp_path), study_name="s")
    for x, state, attrs in ((1.0, TrialState.COMPLETE, {}), (2.0, TrialState.PRUNED, {}),
                            (3.0, TrialState.FAIL, {"fail_reason": "ValueError: boom"}),
                            (4.0, TrialState.FAIL, {"duplicate_of": 0})):
        study.add_trial(create_trial(state=state, params={"x": x}, distributions=DIST,
                                     value=x if state == TrialState.COMPLETE else None, user_attrs=attrs))
    # trial 4: its worker died; trial 5 is Optuna's queued retry of it
    study.add_trial(create_trial(state=TrialState.FAIL, params={"x": 5.0}, distributions=DIST))
    study.add_trial(create_trial(state=TrialState.WAITING, params={"x": 5.0}, distributions=DIST,
                                 system_attrs={"failed_trial": 4, "retry_history": [4]}))
    state = progress(study)
    assert (state.complete, state.pruned, state.failed) == (1, 1, 1)
    assert (state.requeued, state.duplicates, state.waiting, state.counted) == (1, 1, 1, 3)


def test_a_trial_whose_process_died_is_failed_and_requeued_at_once(tmp_path: Path) -> None:
    storage = _journal(tmp_path, grace=3600)  # so only the dead-process check can fire
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask({"x": FloatDistribution(0, 10)})
    storage.set_trial_system_attr(trial._trial_id, WORKER_ATTR, {"host": __import__("socket").gethostname(),
                                                                 "pid": _dead_pid()})
    fail_stale_trials(study)
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    assert trials[1].params == trials[0].params
    assert WORKER_ATTR not in trials[1].system_attrs  # the copy is not mistaken for the dead one
    assert progress(study).requeued == 1


def test_the_folders_of_failed_and_dead_trials_are_removed(tmp_path: Path) -> None:
    import os
    import socket

    storage = _journal(tmp_path, grace=3600)
    study = optuna.create_study(storage=storage, study_name="s")
    study.add_trial(create_trial(state=TrialState.COMPLETE, params={"x": 1.0}, distributions=DIST, value=1.0))
    study.add_trial(create_trial(state=TrialState.FAIL, params={"x": 2.0}, distributions=DIST,
                                 user_attrs={"fail_reason": "ValueError: boom"}))
    dead, alive = study.ask(DIST), study.ask(DIST)
    host = socket.gethostname()
    storage.set_trial_system_attr(dead._trial_id, WORKER_ATTR, {"host": host, "pid": _dead_pid()})
    storage.set_trial_system_attr(alive._trial_id, WORKER_ATTR, {"host": host, "pid": os.getppid()})
    folders = [trial_dir(tmp_path, "s", n) for n in range(4)]
    for folder in folders:
        (folder / "checkpoint").mkdir(parents=True)
        (folder / "checkpoint" / "adapters.safetensors").write_bytes(b"0" * 1024)
    fail_stale_trials(study)  # the dead worker's trial 2 → FAIL, re-queued as trial 4
    assert remove_failed_trial_dirs(study, tmp_path, "s") == 2
    assert [f.exists() for f in folders] == [True, False, False, True]  # complete and running ones stay
    assert folders[0] == tmp_path / "trials" / "s" / "0000"


def test_a_silent_heartbeat_marks_a_trial_stale_after_the_grace_period(tmp_path: Path) -> None:
    storage = _journal(tmp_path, grace=2)
    study = optuna.create_study(storage=storage, study_name="s")
    alive = study.ask()
    storage.record_heartbeat(alive._trial_id)
    assert storage._get_stale_trial_ids(study._study_id) == []
    storage.set_trial_system_attr(alive._trial_id, "v2m_heartbeat", time.time() - 10)
    assert storage._get_stale_trial_ids(study._study_id) == [alive._trial_id]


def test_a_live_worker_is_not_dead() -> None:
    import os
    import socket

    trial = create_trial(state=TrialState.RUNNING, system_attrs={WORKER_ATTR: {"host": socket.gethostname(),
                                                                              "pid": os.getppid()}})
    assert not worker_is_dead(trial)
    elsewhere = create_trial(state=TrialState.RUNNING, system_attrs={WORKER_ATTR: {"host": "other", "pid": 1}})
    assert not worker_is_dead(elsewhere)  # other hosts are left to the heartbeat


class _FakeRun:
    def __init__(self):
        self.logged = []

    def log_step(self, name, value, step):
        self.logged.append((name, step, value))


def test_report_logs_every_curve_and_prunes_on_the_first(tmp_path: Path) -> None:
    spec = type("S", (), {})()
    spec.study = type("T", (), {"pruner": type("P", (), {"type": "median"})()})()
    spec.metrics = ("fad",)
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=1.0))
    trial = study.ask()
    run = _FakeRun()
    report = _Reporter(trial, run, spec)
    report(0, 0.5)
    report(0, 9.0, name="lr")  # a second curve is only logged
    with pytest.raises(optuna.TrialPruned):
        report(1, 2.0)
    assert run.logged == [("val_loss", 0, 0.5), ("lr", 0, 9.0), ("val_loss", 1, 2.0)]
    assert study._storage.get_trial(trial._trial_id).intermediate_values == {0: 0.5, 1: 2.0}


def test_trials_register_by_name() -> None:
    with TRIALS.scoped():  # the test's trial is gone afterwards

        @register_trial("unit-test-trial")
        def fake(cfg, report, workdir):
            return TrialResult(metrics={"m": 1.0})

        assert get_trial("unit-test-trial") is fake
    assert "unit-test-trial" not in TRIALS
    assert get_trial("demo").__name__ == "run_demo_trial"
    with pytest.raises(UserError, match="unknown trial 'nope'"):
        get_trial("nope")
