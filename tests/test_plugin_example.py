"""The example plugin (`examples/plugin`): its entry points, made visible from a temporary folder (never installed
into the environment the tests run in), register a conditioner, two extractors and a metric; the conditioner is
exact at init, never reads the music at generation, and trains end to end from the plugin's experiment."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

from toolkit.conditioners.registry import CONDITIONERS
from toolkit.features.batch import FeatureBatch, TargetAtGeneration
from toolkit.features.kinds import FRAMES, Feature
from toolkit.features.registry import EXTRACTORS
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.registry import METRICS

from .conftest import train_on_tiny_world

PLUGIN = Path(__file__).resolve().parents[1] / "examples" / "plugin"
FPS = 50.0  # video features at half the tiny codec's 100 Hz: two decoder steps per frame
RMS_RATE = 40.0  # not the decoder's rate: the conditioner resamples the target itself


def entry_points_txt() -> str:
    """The plugin's `[project.entry-points.*]` tables as the `entry_points.txt` pip would write."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return "".join(f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in entries.items()) + "\n"
                   for group, entries in project["entry-points"].items())


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """The plugin as if installed: its source folder and a `*.dist-info` with its entry points on sys.path.
    The registries are scoped and the plugin's modules forgotten afterwards, so nothing leaks into other tests."""
    info = tmp_path / "site" / "v2m_motion_loudness-0.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: v2m-motion-loudness\nVersion: 0.0.0\n")
    (info / "entry_points.txt").write_text(entry_points_txt())
    monkeypatch.syspath_prepend(str(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    try:
        with contextlib.ExitStack() as scopes:
            for registry in (CONDITIONERS, EXTRACTORS, METRICS):
                scopes.enter_context(registry.scoped())
            yield
    finally:
        # a module still in sys.modules would not run its decorators again in the next test's scope
        for name in [m for m in sys.modules if m.partition(".")[0] == "v2m_motion_loudness"]:
            del sys.modules[name]


def test_the_entry_points_list_the_plugin(plugin, capsys):
    from toolkit.cli import main

    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["loudness_from_motion"])
    assert lines[at + 1].split() == ["hook:", "in_attention;", "inputs:", "motion.energy;", "targets:",
                                     "loudness.rms"]
    details = {line.split()[0]: lines[i + 1].strip() for i, line in enumerate(lines[:-1])
               if line[2:3].strip() and line.split()}  # an entry's line → the line of details under it
    assert details["motion"] == "reads: video; outputs: energy (frames)"
    assert details["loudness"] == "reads: audio; outputs: rms (series @ 50 Hz)"
    assert any(line.split()[:1] == ["loudness_motion_corr"] for line in lines)


@pytest.fixture
def batch(backbone):
    """Codes, prompts and features of two clips; the second clip's video (and music) is shorter."""
    gen = torch.Generator().manual_seed(3)
    codes = torch.randint(0, backbone.codebook_size, (2, backbone.num_codebooks, 20), generator=gen)
    memory, mask = backbone.encode_text(["a calm piano ballad", "fast drums"])
    frames, rows = 11, 9  # 0.22 s of video at FPS, of loudness at RMS_RATE
    video_mask, music_mask = torch.ones(2, frames), torch.ones(2, rows)
    video_mask[1, 8:], music_mask[1, 7:] = 0, 0
    values = {"motion.energy": torch.rand(2, frames, generator=gen),
              "loudness.rms": -60 * torch.rand(2, rows, generator=gen)}
    kinds = {"motion.energy": FRAMES, "loudness.rms": Feature("series", rate=RMS_RATE)}
    features = FeatureBatch(values, {"motion.energy": video_mask, "loudness.rms": music_mask}, kinds)
    return {"codes": codes, "memory": memory, "mask": mask, "features": features}


def logits(backbone, batch, attached=None, training=False):
    args = batch["codes"], batch["memory"], batch["mask"]
    if attached is None:
        return backbone.decoder_forward(*args).logits
    with torch.no_grad(), attached.conditioned(batch["features"], training=training):
        return backbone.decoder_forward(*args).logits


def test_the_plugin_conditioner_is_exact_at_init(plugin, backbone, batch):
    from toolkit.model.attach import attach

    reference = logits(backbone, batch)
    attached = attach(backbone, [{"name": "loudness_from_motion"}], fps=FPS)
    conditioner = attached.conditioners["loudness_from_motion"]
    assert conditioner.num_trainable() > 0
    assert torch.equal(logits(backbone, batch, attached), reference)  # generation: the prediction, times zero
    attached.set_progress(0, 10)
    assert torch.equal(logits(backbone, batch, attached, training=True), reference)  # training: the real curve
    assert sorted(attached.stage_names()) == ["loudness_from_motion", "loudness_from_motion.inject",
                                              "loudness_from_motion.predictor", "tokens"]


def test_the_target_is_read_in_training_only(plugin, backbone, batch):
    from toolkit.model.attach import attach

    attached = attach(backbone, [{"name": "loudness_from_motion", "teacher_fraction": 0.5}], fps=FPS)
    conditioner = attached.conditioners["loudness_from_motion"]
    with torch.no_grad():
        conditioner.inject.weight.fill_(0.5)  # trained, so the curve it adds shows in the logits
    other = {**batch, "features": FeatureBatch(
        {"motion.energy": batch["features"]["motion.energy"], "loudness.rms": -batch["features"]["loudness.rms"]},
        {k: batch["features"].mask(k) for k in batch["features"]},
        {k: batch["features"].kind(k) for k in batch["features"]})}
    # generation: two soundtracks for the same video give the same logits (the music is never read)
    assert torch.equal(logits(backbone, batch, attached), logits(backbone, other, attached))
    attached.set_progress(0, 10)  # teacher forcing: the real loudness is the signal
    assert not torch.allclose(logits(backbone, batch, attached, True), logits(backbone, other, attached, True))
    with attached.conditioned(batch["features"], training=True):
        assert set(conditioner.auxiliary_losses()) == {"mse"}
    attached.set_progress(5, 10)  # after teacher forcing: the prediction, whatever the music
    assert torch.equal(logits(backbone, batch, attached, True), logits(backbone, other, attached, True))
    # told it is training while the target is withheld (a generation batch), it fails loudly
    view = batch["features"].select(["motion.energy", "loudness.rms"], withheld=["loudness.rms"])
    with pytest.raises(TargetAtGeneration, match="loudness.rms"):
        conditioner.prepare(view.for_training(True))


def test_the_extractors_and_the_metric(plugin):
    from toolkit.features.registry import get_extractor
    from toolkit.metrics.registry import get_metric

    frames = np.zeros((3, 4, 4, 3), dtype=np.uint8)
    frames[1] = 255  # all white, then back to black
    assert get_extractor("motion")(SimpleNamespace(array=frames))["energy"].tolist() == [0, 1, 1]
    rate, fps = 800, 8.0
    t = np.arange(rate) / rate
    audio = np.sin(2 * np.pi * 100 * t) * np.repeat([0.01, 0.1, 1.0, 0.1], rate // 4)  # 0.25 s per level
    rms = get_extractor("loudness", frame_rate=fps)((audio, rate))["rms"]
    assert rms.shape == (9,) and rms[5] > rms[3] > rms[1]  # frame k is centred on k / fps seconds
    from v2m_motion_loudness.metric import loudness_motion_correlation as corr

    assert corr(audio, rate, rms, fps) == pytest.approx(1.0)
    assert corr(audio, rate, -rms, fps) == pytest.approx(-1.0)
    metric = get_metric("loudness_motion_corr")()
    assert metric.needs == ("generated", "video") and metric.names(SuiteOptions()) == ["loudness_motion_corr[8fps]"]


def test_the_suite_computes_the_plugin_metric_from_the_videos(plugin, tmp_path):
    """The suite reads the registry, so `toolkit evaluate --videos` scores a plugin's metric like a built-in."""
    import soundfile as sf

    from toolkit.data.mp4 import write_mp4
    from toolkit.metrics.suite import evaluate_dirs

    ref, gen, videos = (tmp_path / d for d in ("ref", "gen", "videos"))
    for folder in (ref, gen, videos):
        folder.mkdir()
    rate = 16000
    for i in range(3):
        frames = np.zeros((16, 16, 16, 3), np.uint8)
        frames[8 + i:] = 255  # a cut from black to white
        write_mp4(videos / f"v{i}.mp4", frames, 8.0)
        wave = np.sin(2 * np.pi * 220 * np.arange(2 * rate) / rate).astype(np.float32) * 0.3
        wave[rate + i * rate // 8:] *= 0.01  # quieter after the cut
        sf.write(ref / f"v{i}.wav", wave, rate)
        sf.write(gen / f"v{i}.wav", wave, rate)
    result = evaluate_dirs(gen, ref, videos, SuiteOptions(bootstrap_resamples=20), report=lambda m: None)
    entry = result["metrics"]["loudness_motion_corr[8fps]"]
    assert entry["n"] == 3 and entry["key"] == "loudness_motion_corr.8fps"
    assert set(result["per_clip"]["loudness_motion_corr[8fps]"]) == {"v0", "v1", "v2"}


EXPERIMENT = """
name: plugin_example
data:
  root: {world}
  splits: {{val: 0.2, test: 0.2}}
backbone:
  name: {backbone}
train:
  steps: 2
  batch_size: 2
  crop_seconds: 0.4
  warmup_steps: 1
  val_every: 2
  checkpoint_every: 2
  lr: 0.05
  progress: false
"""


@pytest.mark.slow
def test_the_plugin_experiment_trains(plugin, tmp_path, monkeypatch, capsys):
    # the plugin's own experiment, with the tiny world, the tiny backbone and two steps over it
    experiment = f"extends: {(PLUGIN / 'experiment.yaml').as_posix()}\n{EXPERIMENT}"
    _, run_id, client = train_on_tiny_world(tmp_path, monkeypatch, capsys, experiment, clips=6)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    params = run.data.params  # the plugin's experiment was read: its extractor settings, weight and conditioner
    assert params["features.extractors.loudness.frame_rate"] == "50.0"
    assert params["train.loss_weights.loudness_from_motion.mse"] == "0.5"
    assert int(params["params_loudness_from_motion"]) > 0
    assert [m.step for m in client.get_metric_history(run_id, "aux.loudness_from_motion.mse")] == [1, 2]
    assert [m.step for m in client.get_metric_history(run_id, "val_aux.loudness_from_motion.mse")] == [2]
