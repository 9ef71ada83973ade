"""A two-trial demo sweep through the real CLI entry point: journal, MLflow runs, reports, and resuming."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from toolkit.cli import main

from .sweep_helpers import make_workdir, sweep_text


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path):
    """Run `toolkit sweep` once (in this process) in a fresh working directory; yield (folder, stderr text)."""
    folder = tmp_path_factory.mktemp("e2e")
    params = {"backbone.guidance": "choice(1.0, 3.0)", "seed": 0}
    make_workdir(folder, mlflow_template, sweep_text("two", params))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        assert main(["sweep", "sweep.yaml"]) == 0
        yield folder


def _client(folder: Path):
    import mlflow

    return mlflow.MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")


def test_journal_storage_holds_the_study(finished_sweep: Path) -> None:
    import optuna

    journal = finished_sweep / "optuna" / "two.journal"
    assert journal.is_file()
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    trials = optuna.load_study(study_name="two", storage=storage).get_trials()
    assert sorted(t.params["backbone.guidance"] for t in trials) == [1.0, 3.0]
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    by_guidance = {t.params["backbone.guidance"]: t.value for t in trials}
    assert by_guidance == {1.0: pytest.approx(4.0), 3.0: pytest.approx(0.0)}  # the demo's (g - 3)^2


def test_mlflow_has_a_parent_and_two_nested_runs(finished_sweep: Path) -> None:
    client = _client(finished_sweep)
    experiment = client.get_experiment_by_name("two")
    assert Path(experiment.artifact_location.removeprefix("file://")) == finished_sweep.resolve() / "mlruns"
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("v2m.role") == "study"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    assert len(parents) == 1 and len(children) == 2
    assert parents[0].info.status == "FINISHED"
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert child.info.status == "FINISHED"
        assert child.data.tags["v2m.toolkit_version"]
        guidance = float(child.data.params["backbone.guidance"])
        assert child.data.params["backbone.name"] == "micro"  # the flattened config, not only swept keys
        assert child.data.metrics["demo_quality"] == pytest.approx((guidance - 3) ** 2)
        history = client.get_metric_history(child.info.run_id, "demo_val")
        assert [m.step for m in history] == [0, 1, 2]
        artifacts = {a.path for a in client.list_artifacts(child.info.run_id)}
        assert {"config.yaml", "metrics.json", "demo_curve.csv"} <= artifacts


def test_reports_have_one_row_per_configuration_and_the_command(finished_sweep: Path) -> None:
    reports = finished_sweep / "reports"
    markdown = (reports / "two.md").read_text()
    assert "Regenerate: `toolkit report sweep.yaml`" in markdown
    assert "| 1.0 | 1 | 4 (n=1) |" in markdown
    assert "| 3.0 | 1 | **0 (n=1)** |" in markdown  # best (lowest) demo_quality marked
    assert "DEMO" in markdown  # a demo report says it is one
    lines = (reports / "two.csv").read_text().splitlines()
    assert lines[0] == "# regenerate: toolkit report sweep.yaml"
    rows = list(csv.DictReader(lines[1:]))
    assert [(r["backbone.guidance"], r["n_trials"], r["demo_quality_best"]) for r in rows] == [
        ("1.0", "1", "false"), ("3.0", "1", "true")]
    assert rows[0]["demo_quality_lo"] == rows[0]["demo_quality_hi"] == ""  # n = 1: no interval
    tex = (reports / "two.tex").read_text()
    assert tex.startswith("% regenerate: toolkit report sweep.yaml")
    assert r"\toprule" in tex and r"\textbf{0 (n=1)}" in tex
    assert (reports / "two" / "demo_quality_vs_backbone.guidance.png").stat().st_size > 1000


def test_rerunning_a_finished_sweep_runs_nothing(finished_sweep: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(finished_sweep)
        assert main(["sweep", "sweep.yaml", "--no-report"]) == 0
    err = capsys.readouterr().err
    assert "started" not in err
    assert len(_client(finished_sweep).search_runs([_client(finished_sweep).get_experiment_by_name("two")
                                                   .experiment_id])) == 3


def test_a_failing_trial_is_recorded_and_the_study_goes_on(tmp_path: Path, mlflow_template: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import optuna

    params = {"backbone.guidance": "choice(99.0, 3.0)", "seed": 0}  # the demo trial raises above 50
    make_workdir(tmp_path, mlflow_template, sweep_text("failing", params))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["sweep", "sweep.yaml"]) == 0  # a failed trial still counts: the study reached its target
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(os.fspath(tmp_path / "optuna" / "failing.journal")))
    trials = {t.params["backbone.guidance"]: t for t in optuna.load_study(study_name="failing",
                                                                          storage=storage).get_trials()}
    assert trials[3.0].state == optuna.trial.TrialState.COMPLETE
    assert trials[99.0].state == optuna.trial.TrialState.FAIL
    assert trials[99.0].user_attrs["fail_reason"] == "ValueError: demo trial: guidance 99.0 is above 50"
    markdown = (tmp_path / "reports" / "failing.md").read_text()
    assert "| 99.0 |" not in markdown
    assert "trial " in markdown and "fail — ValueError: demo trial: guidance 99.0 is above 50" in markdown
    assert main(["sweep", "sweep.yaml", "--no-report"]) == 0  # and it is not retried
    assert len(optuna.load_study(study_name="failing", storage=storage).get_trials()) == 2


def test_a_changed_search_space_is_refused(tmp_path: Path, mlflow_template: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture) -> None:
    sweep = make_workdir(tmp_path, mlflow_template, sweep_text("changed", {"backbone.guidance": "choice(3.0)"}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["sweep", "sweep.yaml", "--no-report"]) == 0
    sweep.write_text(sweep_text("changed", {"backbone.guidance": "choice(2.0, 3.0)"}))
    capsys.readouterr()
    assert main(["sweep", "sweep.yaml", "--no-report"]) == 2
    assert "the stored study 'changed' has a different search space" in capsys.readouterr().err


def test_a_database_storage_url_holds_the_study(tmp_path: Path, mlflow_template: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import optuna

    make_workdir(tmp_path, mlflow_template, sweep_text("rdb", {"backbone.guidance": "choice(1.0, 3.0)"}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    assert main(["sweep", "sweep.yaml", "--storage", url, "--trials", "1", "--no-report"]) == 0
    assert main(["sweep", "sweep.yaml", "--storage", url, "--no-report"]) == 0  # tops up to the grid's 2
    assert not (tmp_path / "optuna").exists()
    trials = optuna.load_study(study_name="rdb", storage=url).get_trials()
    assert sorted(t.params["backbone.guidance"] for t in trials) == [1.0, 3.0]
