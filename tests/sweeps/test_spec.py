"""Sweep files: a valid one parses into what the study needs; bad ones exit 2 with one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from toolkit.cli import main
from toolkit.sweeps.spec import load_sweep
from toolkit.sweeps.syntax import Choice, Interval

from .sweep_helpers import EXPERIMENT, cli, sweep_text


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "experiment.yaml").write_text(EXPERIMENT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write(folder: Path, text: str) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(text)
    return path


def test_a_valid_sweep_file(folder: Path) -> None:
    text = sweep_text("ok", {"backbone.guidance": "choice(1.0, 3.0)", "seed": "range(0, 3)",
                             "backbone.top_k": 50},
                      objective={"metrics": ["fad", "rtf"]},  # known metrics need no directions
                      study={"sampler": {"type": "grid"}, "pruner": {"type": "median", "n_warmup_steps": 1}},
                      report={"group_by": ["backbone.guidance"], "metrics": ["fad", "kl", {"demo_score": "maximize"}]})
    spec = load_sweep(_write(folder, text))
    assert spec.name == "ok" and spec.trial == "demo"
    assert spec.experiment == (folder / "experiment.yaml").resolve()
    assert spec.directions == ("minimize", "minimize")
    assert spec.params == {"backbone.guidance": Choice((1.0, 3.0)), "seed": Choice((0, 1, 2))}
    assert spec.fixed == {"backbone.top_k": 50}
    assert spec.study.n_trials == spec.grid_size == 6  # a grid defaults to (and is capped at) its size
    assert spec.overrides({"seed": 1}) == ["backbone.top_k=50", "seed=1"]
    # old plain names are aliases: each is its metric at the experiment's convention
    assert spec.metrics == ("fad[mel-stats]", "rtf")
    assert spec.report_directions == {"fad[mel-stats]": "minimize", "kl[micro-style-cnn]": "minimize",
                                      "demo_score": "maximize"}
    assert load_sweep(folder / "sweep.yaml", n_trials=2).study.n_trials == 2


def test_names_resolve_to_the_experiment_s_conventions_and_a_baseline_row_is_read(folder: Path) -> None:
    text = sweep_text("named", {"backbone.guidance": "choice(1.0, 3.0)"},
                      report={"group_by": ["backbone.guidance"], "baseline": 1.0,
                              "metrics": ["bhs", "bhs[0.2s]", "bhs.0.2s", "key_acc_loose", "tempo_acc", "coverage"]})
    spec = load_sweep(_write(folder, text))
    assert spec.report_metrics == ("bhs[1s]", "bhs[0.2s]", "bhs[0.2s]", "key_score[mirex]", "tempo_acc[8%]",
                                   "coverage[mel-stats,k5]")
    assert spec.baseline == {"backbone.guidance": "1.0"}


def test_tpe_with_intervals_and_a_default_group_by(folder: Path) -> None:
    text = sweep_text("tpe", {"backbone.guidance": "tag(log, interval(0.5, 8))", "seed": "choice(0, 1)"},
                      study={"n_trials": 7, "sampler": {"type": "tpe", "seed": 3}})
    doc = yaml.safe_load(text)
    del doc["report"]
    spec = load_sweep(_write(folder, yaml.safe_dump(doc)))
    assert spec.params["backbone.guidance"] == Interval(0.5, 8, log=True)
    assert spec.study.n_trials == 7 and spec.study.sampler.seed == 3
    assert spec.group_by == ("backbone.guidance",)  # swept keys except the seed
    assert spec.report_metrics == ("demo_quality",)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["params"].update({"backbone.guidance": "choice(1,"}),
     "sweep.yaml: params.backbone.guidance: malformed 'choice(1,': expected a value after ','"),
    (lambda d: d["params"].update({"backbone.guidanse": "choice(1, 2)"}),
     "sweep.yaml: params.backbone.guidanse: override 'backbone.guidanse=1': unknown key backbone.guidanse"
     " — did you mean backbone.guidance?"),
    (lambda d: d.update({"studdy": {}}), "sweep.yaml: unknown key studdy — did you mean study?"),
    (lambda d: d["study"]["sampler"].update({"type": "cmaes"}),
     "sweep.yaml: study.sampler.type: unknown sampler 'cmaes' (one of: grid, tpe, random)"),
    (lambda d: d["study"].update({"pruner": {"type": "median", "warmup": 1}}),
     "sweep.yaml: unknown key study.pruner.warmup"),
    (lambda d: d["params"].update({"backbone.guidance": "interval(0, 1)"}),
     "sweep.yaml: params.backbone.guidance: the grid sampler needs choice(...) or range(...)"),
    (lambda d: d["report"].update({"metrics": ["mystery"]}),
     "sweep.yaml: report.metrics: no known direction for mystery; write {mystery: maximize}"),
    (lambda d: d.update({"experiment": "missing.yaml"}), "sweep.yaml: experiment: missing.yaml: no such"),
    (lambda d: d["report"].update({"metrics": ["fad[vggish]"]}),
     "sweep.yaml: report.metrics: fad[vggish]: the experiment's evaluation settings report fad[mel-stats]"),
    (lambda d: d["report"].update({"metrics": ["key_acc[mirex]"]}),
     "sweep.yaml: report.metrics: metric 'key_acc' takes no convention in brackets, got 'key_acc[mirex]'"),
    (lambda d: d["report"].update({"baseline": {"seed": 0}}),
     "sweep.yaml: report.baseline: expected one value for each of backbone.guidance, got seed"),
])
def test_bad_sweep_files_exit_2_with_one_line(folder: Path, capsys: pytest.CaptureFixture, edit, message) -> None:
    doc = yaml.safe_load(sweep_text("bad", {"backbone.guidance": "choice(1.0, 3.0)"}))
    edit(doc)
    _write(folder, yaml.safe_dump(doc))
    assert main(["sweep", "sweep.yaml"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {message}")
    assert not (folder / "optuna").exists() and not (folder / "reports").exists()  # nothing half-written


def test_the_cli_process_exits_2_without_a_traceback(folder: Path) -> None:
    _write(folder, sweep_text("bad", {"backbone.guidance": "choice(1,"}))
    result = cli("sweep", "sweep.yaml", cwd=folder)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: sweep.yaml: params.backbone.guidance: malformed 'choice(1,': expected a value after ',' in "
        "'choice(1,'"]
