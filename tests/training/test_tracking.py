"""A training run's MLflow metrics match its checkpoint: a run killed between checkpoints and resumed logs
each step exactly once (MLflow cannot delete the rows of steps the resumed run does again)."""

from __future__ import annotations

import json

import pytest

from toolkit.training.tracking import PENDING, TrainingRun

EVERY = 4  # checkpoint every 4 steps


def _checkpoint(run_dir, step: int, run_id: str) -> None:
    """What `save_checkpoint` leaves for the tracker: a whole new folder with `state.json` at `step`."""
    from toolkit.utils.atomic import atomic_dir

    with atomic_dir(run_dir / "checkpoint") as tmp:
        (tmp / "state.json").write_text(json.dumps({"step": step, "mlflow_run_id": run_id}))


def _train(run: TrainingRun, run_dir, steps) -> None:
    """The trainer's order per step: log the step's metrics, then write a checkpoint every EVERY steps."""
    for step in steps:
        run.log_metrics(step, {"loss": 1.0 / step, "stage": 0})
        if step % EVERY == 0:
            _checkpoint(run_dir, step, run.run_id)


@pytest.fixture
def tracked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


# killed two steps past checkpoint 8 (SIGKILL: no end; Ctrl-C: ended KILLED), and right after writing
# checkpoint 8, before its steps were sent (they wait in the pending file)
@pytest.mark.parametrize("last_step, ended, held", [(10, None, 8), (10, "KILLED", 8), (8, None, 4)])
def test_a_run_killed_between_checkpoints_logs_each_step_once_after_resume(tracked, last_step, ended, held):
    run_dir = tracked / "run"
    run_dir.mkdir()
    first = TrainingRun("exp", run_dir)
    _train(first, run_dir, range(1, last_step + 1))
    if ended:
        first.end(ended)
    client, run_id = first.client, first.run_id
    logged = [m.step for m in client.get_metric_history(run_id, "loss")]
    assert logged == list(range(1, held + 1))  # never past the checkpoint
    del first  # the kill: nothing but the files survives

    resumed = TrainingRun("exp", run_dir, run_id)
    _train(resumed, run_dir, range(9, 13))
    resumed.end()
    for key in ("loss", "stage"):
        assert sorted(m.step for m in client.get_metric_history(run_id, key)) == list(range(1, 13))
    assert client.get_run(run_id).data.metrics["loss"] == pytest.approx(1 / 12)
    assert client.get_run(run_id).info.status == "FINISHED"
    assert not (run_dir / PENDING).exists()


def test_a_fresh_run_sends_nothing_before_its_first_checkpoint(tracked):
    run_dir = tracked / "run"
    run_dir.mkdir()
    (run_dir / PENDING).write_text('{"key": "loss", "value": 9, "timestamp": 1, "step": 1}\n')  # someone else's
    run = TrainingRun("exp", run_dir)
    _train(run, run_dir, range(1, 4))
    assert run.client.get_metric_history(run.run_id, "loss") == []
    run.end()  # a finished run sends everything
    history = run.client.get_metric_history(run.run_id, "loss")
    assert [m.step for m in history] == [1, 2, 3] and history[0].value == 1.0
