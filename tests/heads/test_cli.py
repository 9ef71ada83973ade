"""`toolkit train` and `toolkit generate --run` with plan-and-refine, end to end on a tiny world; bad planner
settings fail at load with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import train_on_tiny_world

REPO = Path(__file__).resolve().parents[2]

EXPERIMENT = """
name: tiny_plan_refine
data: {{root: {world}, splits: {{val: 0.2, test: 0.2}}}}
features: {{extractors: {{rhythm: null, colour: null, shots: null}}}}  # clip and interframe only
backbone: {{name: {backbone}}}
conditioners:
  - {{name: rhythm, block_size: 1}}
lora: {{enabled: true, rank: 2}}
head:
  name: plan_refine
  plan_refine: {{patch_size: 6, fsq_levels: "5,5,4", plan_dim: 16, dit_width: 32, euler_steps: 4}}
train:
  steps: 4
  batch_size: 2
  crop_seconds: 0.4
  warmup_steps: 1
  val_every: 2
  checkpoint_every: 2
  progress: false
"""


@pytest.mark.slow
def test_train_then_generate_patch_by_patch(tmp_path, monkeypatch, capsys):
    from toolkit.cli import main
    from toolkit.data.video import probe_video

    world, run_id, client = train_on_tiny_world(tmp_path, monkeypatch, capsys, EXPERIMENT, clips=5)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.params["head.plan_refine.patch_size"] == "6"
    params = {k: int(v) for k, v in run.data.params.items() if k.startswith("params_")}
    assert params["params_plan_refine"] > 0 and params["params_lora"] > 0
    assert params["params_trainable"] >= params["params_plan_refine"] + params["params_lora"]  # the head counts
    # the flow-matching loss of unit-scale latents starts near 2 (E|data - noise|² for unit variances)
    assert 0.5 < run.data.metrics["loss"] < 4

    video = next(p for p in sorted((world / "clips").glob("*.mp4")))
    out = tmp_path / "out.mp4"
    assert main(["generate", str(video), "-o", str(out), "--run", run_id, "--window-seconds", "0.7"]) == 0
    assert probe_video(out).has_audio and abs(probe_video(out).duration - probe_video(video).duration) < 0.1


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("head.plan_refine.fsq_levels=8,x", "head.plan_refine.fsq_levels"),
        ("head.plan_refine.patch_size=0", "head.plan_refine.patch_size"),
        ("head.plan_refine.euler_steps=0", "head.plan_refine.euler_steps"),
        ("head.plan_refine.patch_sise=4", "did you mean head.plan_refine.patch_size"),
        ("head.plan_refine.prediction=noise", "head.plan_refine.prediction"),
    ],
)
def test_bad_planner_settings_fail_at_load_with_one_line(tmp_path, capsys, override, message):
    from toolkit.cli import main

    experiment = tmp_path / "exp.yaml"
    experiment.write_text("name: x\nhead: {name: plan_refine}\n")
    assert main(["train", str(experiment), override]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(("value", "expected"), [("off", "False"), ("8,6,5", "8,6,5"), ("'4,4'", "4,4")])
def test_fsq_levels_overrides_load(value, expected):
    from toolkit.config import load_config
    from toolkit.heads.plan_refine.bottleneck import parse_levels

    cfg = load_config(REPO / "experiments" / "micro_plan_refine.yaml", [f"head.plan_refine.fsq_levels={value}"])
    assert str(cfg.head.plan_refine.fsq_levels) == expected
    levels = None if value == "off" else tuple(map(int, expected.split(",")))
    assert parse_levels(cfg.head.plan_refine.fsq_levels) == levels
