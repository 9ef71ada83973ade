"""`toolkit train` end to end on a tiny world and a tiny backbone: MLflow run, checkpoint, resume, and
`toolkit generate --run` with the trained adapters."""

from __future__ import annotations

import json

import pytest

from ..conftest import train_on_tiny_world

EXPERIMENT = """
name: tiny_vidmusician
data: {{root: {world}, splits: {{val: 0.2, test: 0.2}}}}
features: {{extractors: {{rhythm: null, colour: null, shots: null}}}}  # clip and interframe only
backbone: {{name: {backbone}}}
conditioners:
  - {{name: semantic, feature_dim: 32}}
  - {{name: rhythm, block_size: 1}}
lora: {{enabled: true, rank: 2}}
train:
  steps: 4
  batch_size: 2
  crop_seconds: 0.4
  warmup_steps: 1
  val_every: 2
  checkpoint_every: 2
  progress: false
  stages:
    - {{name: semantic, conditioners: [semantic, lora], fraction: 0.5}}
    - {{name: rhythm, conditioners: [rhythm], fraction: 0.5}}
"""


@pytest.mark.slow
def test_train_resume_and_generate_with_the_run(tmp_path, monkeypatch, capsys):
    from toolkit.cli import main
    from toolkit.data.video import probe_video
    from toolkit.training.loop import Loop

    world, run_id, client = train_on_tiny_world(tmp_path, monkeypatch, capsys, EXPERIMENT, clips=6)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["train.steps"] == "4" and run.data.params["lora.rank"] == "2"
    assert 0 < int(run.data.params["params_trainable"]) < int(run.data.params["params_total"])
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == [1, 2, 3, 4]
    assert [m.step for m in client.get_metric_history(run_id, "val_loss")] == [2, 4]
    assert [m.value for m in client.get_metric_history(run_id, "stage")] == [0, 0, 1, 1]
    artifacts = {a.path for a in client.list_artifacts(run_id, "checkpoint")}
    assert {"checkpoint/adapters.safetensors", "checkpoint/config.yaml", "checkpoint/lora"} <= artifacts

    run_dir = run.data.tags["v2m.run_dir"]
    real_step = Loop.train_step

    def interrupted_at_step_8(self, step):  # Ctrl-C in step 8: steps 5-7 ran, the checkpoint holds 6
        if step == 7:
            raise KeyboardInterrupt
        return real_step(self, step)

    monkeypatch.setattr(Loop, "train_step", interrupted_at_step_8)
    assert main(["train", "--resume", run_id, "train.steps=8"]) == 130
    monkeypatch.setattr(Loop, "train_step", real_step)
    assert client.get_run(run_id).info.status == "KILLED"
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == [1, 2, 3, 4, 5, 6]
    assert main(["train", "--resume", run_id, "train.steps=8"]) == 0
    state = json.loads((tmp_path / run_dir / "checkpoint" / "state.json").read_text())
    assert state["step"] == 8 and state["mlflow_run_id"] == run_id
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == [1, 2, 3, 4, 5, 6, 7, 8]  # step 7 once

    video = next(p for p in sorted((world / "clips").glob("*.mp4")))
    out = tmp_path / "out.mp4"
    assert main(["generate", str(video), "-o", str(out), "--run", run_id, "--window-seconds", "0.5"]) == 0
    assert probe_video(out).has_audio and abs(probe_video(out).duration - probe_video(video).duration) < 0.1

    from toolkit.metrics import classifier

    quick = classifier.micro_style_classifier  # the KL/IS classifier, trained briefly: this checks plumbing
    monkeypatch.setattr(classifier, "micro_style_classifier",
                        lambda world: quick(world, classifier.StyleCnnSettings(steps=3, batch_size=4)))
    assert main(["evaluate", "--run", run_id, "--out", "metrics.json"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    from toolkit.data.dataset import scan_dataset

    test_clips = [item for item in scan_dataset(world, val=0.2, test=0.2).items if item.split == "test"]
    assert metrics["n_pairs"] == len(test_clips) >= 1 and metrics["sources"]["embedding"] == "mel-stats"
    scored = metrics["metrics"]
    assert {"fad[mel-stats]", "bhs[1s]", "bcs[0.2s]", "tempo_acc[8%]", "kl[micro-style-cnn]", "rtf", "nll_gain"} <= set(
        scored)  # nll_gain: --run has the model that generated the music
    logged = client.get_run(run_id).data.metrics
    assert logged["test/fad.mel-stats"] == pytest.approx(scored["fad[mel-stats]"]["value"])
    assert logged["test/fad.mel-stats_lo"] == pytest.approx(scored["fad[mel-stats]"]["low"]) and "test/rtf" in logged

    capsys.readouterr()
    assert main(["train", "--resume", run_dir, "train.steps=8"]) == 2
    assert "already at step 8" in capsys.readouterr().err
