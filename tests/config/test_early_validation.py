"""Bad configs exit 2 with one line before any world, backbone or feature work starts (issue 11, items 4-5).

Every build entry point is replaced by one that fails the test, and the working directory and user cache are
checked to be left empty: a check that came late would either trip a build or write something."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from toolkit.cli import main

REPO = Path(__file__).resolve().parents[2]
MICRO = REPO / "experiments" / "micro.yaml"
VIDMUSICIAN = REPO / "experiments" / "micro_vidmusician.yaml"
RHYTHM = "{name: rhythm}"


@pytest.fixture
def no_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_cache: Path):
    """A tmp working directory; building the world, the backbone or running a study fails loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("a build started before the config was checked")

    import toolkit.prepare
    import toolkit.sweeps.workers
    import toolkit.training.model

    monkeypatch.setattr(toolkit.prepare, "dataset_root", refuse)
    monkeypatch.setattr(toolkit.training.model, "load_experiment_backbone", refuse)
    monkeypatch.setattr(toolkit.sweeps.workers, "run_sweep", refuse)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
    assert sorted(p.name for p in work.iterdir() if p.suffix != ".yaml") == []  # no mlflow.db, runs/, optuna/
    assert list(private_cache.iterdir()) == []  # no worlds/, backbones/, features/


def _exits_2(capsys: pytest.CaptureFixture, argv: list[str], expected: str) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err and expected in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("experiment", "override", "expected"),
    [
        (MICRO, "conditioners=[{name: nope}]", "conditioners[0]: unknown conditioner 'nope'"),
        (MICRO, "conditioners=[{name: rhythm, blok_size: 2}]",
         "conditioners[0]: unknown key 'blok_size' — did you mean conditioners[0].block_size?"),
        (MICRO, "conditioners=[{name: rhythm, block_size: 0}]", "conditioners[0].block_size: must be in [1, inf)"),
        (VIDMUSICIAN, "train.stages=[{name: a, conditioners: [nope]}]", "train.stages[0] (a): conditioners"),
        (VIDMUSICIAN, "train.steps=0", "train.steps: must be in [1, inf), got 0"),
        (VIDMUSICIAN, "train.threads=-2", "train.threads: must be in [1, inf), got -2"),
        (VIDMUSICIAN, "train.checkpoint_every=-1", "train.checkpoint_every: must be in [0, inf)"),
        (VIDMUSICIAN, "train.val_every=-5", "train.val_every: must be in [0, inf)"),
        (VIDMUSICIAN, "train.warmup_steps=-5", "train.warmup_steps: must be in [0, inf)"),
        (VIDMUSICIAN, "lora.rank=0", "lora.rank: must be in [1, inf)"),
        (VIDMUSICIAN, "train.lr=0", "train.lr: must be in (0, inf)"),
        (MICRO, "seed=1", "conditioners: nothing to train"),  # micro.yaml lists none: refused before building
        (VIDMUSICIAN, f"conditioners=[{{name: semantic, route: nope}}, {RHYTHM}]",
         "conditioners[0].route: expected one of ['decoupled', 'text_encoder'], got 'nope'"),
        (VIDMUSICIAN, f"conditioners=[{{name: semantic, init: nope}}, {RHYTHM}]", "conditioners[0].init: expected"),
        (VIDMUSICIAN, f"conditioners=[{{name: semantic, feature_dim: 0}}, {RHYTHM}]",
         "conditioners[0].feature_dim: must be in [1, inf), got 0"),
        (VIDMUSICIAN, "conditioners=[{name: semantic}, {name: rhythm, normalise: maybe}]",
         "conditioners[1].normalise: must be true or false, got 'maybe'"),
        (VIDMUSICIAN, "conditioners=[{name: semantic}, {name: rhythm, width: 0}]", "conditioners[1].width: must be"),
        (VIDMUSICIAN, "lora.attention=[selff]", "lora: attention must be a non-empty subset"),
        (VIDMUSICIAN, "lora.projections=[]", "lora: attention must be a non-empty subset"),
        (VIDMUSICIAN, "lora.alpha=0", "lora.alpha: must be in (0, inf), got 0.0"),
        (VIDMUSICIAN, "train.betas=[0.9,1.0]", "train.betas[1]: must be in [0, 1), got 1.0"),
        (VIDMUSICIAN, "train.betas=[0.9]", "train.betas: expected two values"),
        (VIDMUSICIAN, "train.output_dir=exp.yaml/runs", "train.output_dir: exp.yaml/runs:"),  # a file, not a folder
        (VIDMUSICIAN, "backbone.name=/no/such/backbone", "backbone.name='/no/such/backbone': no such directory"),
        (VIDMUSICIAN, "backbone.name=.", "backbone.name: .: not a transformers model directory"),
        (VIDMUSICIAN, "evaluation.embedding=vggishh", "evaluation.embedding: unknown embedding 'vggishh'"),
        (VIDMUSICIAN, "evaluation.classifier=cnn", "evaluation.classifier: unknown classifier 'cnn'"),
        (VIDMUSICIAN, "features.extractors.clipp={}", "features.extractors.clipp: unknown feature extractor 'clipp'"),
        (VIDMUSICIAN, "data.splits.val=0.9", "data.splits: val + test must be below 1"),  # test is 0.1
        (VIDMUSICIAN, "backbone.overlap_seconds=8", "backbone.overlap_seconds: must be below"),
    ],
)
def test_bad_train_config_exits_2_before_any_build(no_builds, capsys, experiment, override, expected):
    (no_builds / "exp.yaml").write_text("name: x\n")  # a file where a folder is wanted, for output_dir
    _exits_2(capsys, ["train", str(experiment), override], expected)


@pytest.mark.parametrize("override", ["features.extractors.colourr=null", "features.extractors.rhythm.n_mels=0"])
def test_bad_feature_settings_fail_prepare_before_the_world_is_built(no_builds, capsys, override):
    _exits_2(capsys, ["prepare", str(MICRO), override], "features.")


def test_bad_planner_kwargs_exit_2_before_any_build(no_builds, capsys):
    argv = ["train", str(MICRO), "head.name=plan_refine", "head.plan_refine.dit_heads=3"]
    _exits_2(capsys, argv, "head.plan_refine.dit_width/dit_heads: the width 128 must be a multiple of the heads 3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("~: 1\nname: x\n", "n.yaml: key null is not a name"),
        ("name: x\ndata:\n  null: 1\n", "n.yaml: key null under data is not a name"),
        ("", "n.yaml: empty experiment file"),
        ("# only a comment\n", "n.yaml: empty experiment file"),
    ],
)
def test_malformed_experiment_file_exits_2(no_builds, capsys, text, expected):
    (no_builds / "n.yaml").write_text(text)
    _exits_2(capsys, ["prepare", "n.yaml"], expected)


def _sweep(folder: Path, objective: str, params: str = "{seed: 'choice(0, 1)'}") -> Path:
    path = folder / "s.yaml"
    path.write_text(f"name: s\nexperiment: {VIDMUSICIAN}\nobjective: {objective}\nparams: {params}\n")
    return path


def test_sweep_objective_naming_no_metric_exits_2(no_builds, capsys):
    path = _sweep(no_builds, "{metrics: [fadd], directions: [minimize]}")
    line = _exits_2(capsys, ["sweep", str(path)], "objective.metrics: trial 'train-evaluate' reports no metric")
    assert "did you mean fad[mel-stats]?" in line


def test_sweep_param_out_of_range_exits_2(no_builds, capsys):
    path = _sweep(no_builds, "{metrics: [fad], directions: [minimize]}", "{seed: 'choice(0, 1)', train.steps: 0}")
    _exits_2(capsys, ["sweep", str(path)], "params.train.steps: train.steps: must be in [1, inf)")


def test_sweep_param_naming_an_unknown_component_exits_2(no_builds, capsys):
    """Found when the sweep loads, not after the first trial has trained and then failed to evaluate."""
    path = _sweep(no_builds, "{metrics: [fad], directions: [minimize]}",
                  "{evaluation.embedding: 'choice(mel-stats, vggishh)'}")
    _exits_2(capsys, ["sweep", str(path)], "params.evaluation.embedding: evaluation.embedding: unknown embedding")


def test_sweep_objective_accepts_every_metric_train_evaluate_reports(tmp_path):
    from toolkit.sweeps.spec import load_sweep

    objective = ("{metrics: [fad, tb_iou, val_loss, params_trainable], "
                 "directions: [minimize, maximize, minimize, minimize]}")
    assert load_sweep(_sweep(tmp_path, objective)).metrics[-1] == "params_trainable"


def test_sweep_checks_a_trial_s_declared_metrics(tmp_path):
    from toolkit.errors import UserError
    from toolkit.sweeps.spec import load_sweep
    from toolkit.sweeps.trial import TrialResult, register_trial

    @register_trial("declares-metrics")
    def trial(cfg, report, workdir):
        return TrialResult(metrics={"score": 1.0})

    trial.metrics = ("score",)
    path = _sweep(tmp_path, "{metrics: [scor], directions: [maximize]}")
    path.write_text(path.read_text() + "trial: declares-metrics\n")
    with pytest.raises(UserError, match="reports no metric 'scor' — did you mean score"):
        load_sweep(path)


def test_every_range_names_a_field_of_its_section():
    """A misspelt key in a `RANGES` table would silently check nothing."""
    from toolkit.config.schema import ExperimentConfig

    def walk(cls):
        names = {f.name for f in dataclasses.fields(cls)}
        assert set(getattr(cls, "RANGES", {})) <= names, cls
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(f.default_factory if f.default_factory is not dataclasses.MISSING else None):
                walk(f.default_factory)

    walk(ExperimentConfig)


def test_conditioner_ranges_name_their_kwargs():
    import inspect

    from toolkit.conditioners.registry import available_conditioners, conditioner_class

    for name in available_conditioners():
        cls = conditioner_class(name)
        assert set(cls.ranges) <= set(inspect.signature(cls).parameters), name


def test_a_conditioner_rule_gives_one_message_at_load_and_at_construction():
    """One owner per rule: the config check asks the conditioner, so both paths say the same thing."""
    from toolkit.config import load_config
    from toolkit.errors import UserError
    from toolkit.heads.plan_refine.head import PlanRefine

    with pytest.raises(UserError) as at_load:
        load_config(MICRO, ["head.name=plan_refine", "head.plan_refine.patch_size=0"])
    with pytest.raises(UserError) as direct:
        PlanRefine.check_config({"patch_size": 0}, "head.plan_refine")
    assert str(at_load.value) == str(direct.value) == "head.plan_refine.patch_size: must be in [1, 64], got 0"
