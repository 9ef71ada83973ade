"""No music-derived feature reaches generation.

A conditioner trained against the music's onset curve (`rhythm.odf`, a target) while reading only the video's
motion (`interframe.distance`, an input) is trained on a tiny world, then one video is given two different
soundtracks: the generated music is bit-identical. A conditioner that reads its target outside training fails
loudly, and one that lists a music-derived key as an input is refused when the config loads.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from toolkit.conditioners.base import Conditioner
from toolkit.conditioners.hooks import add_in_attention
from toolkit.conditioners.init import zero_linear
from toolkit.conditioners.registry import CONDITIONERS
from toolkit.features.batch import FeatureBatch, TargetAtGeneration
from toolkit.features.resample import frame_positions, hold_last, resample_time

from .conftest import one_video_two_soundtracks, train_on_tiny_world

ODF_RATE = 50.0  # the rhythm extractor's frame rate


class OnsetsFromMotion(Conditioner):
    """Predicts the music's onset curve from the video's motion (an auxiliary MSE against the real curve) and
    adds the real curve (first half of training) or the prediction (later, and always at generation) into the
    first decoder layer through a zero-initialised projection: Diff-V2M's pattern in miniature."""

    inputs = ("interframe.distance",)
    targets = ("rhythm.odf",)
    hook = "in_attention"

    def __init__(self, backbone, fps: float = 8.0, cheat: bool = False) -> None:
        super().__init__(backbone)
        self.fps, self.rate, self.cheat = float(fps), float(backbone.frame_rate), cheat
        self.predictor = nn.Sequential(nn.Linear(1, 8), nn.SiLU(), nn.Linear(8, 1))
        self.inject = zero_linear(1, backbone.hidden_size)
        self._curve: torch.Tensor | None = None  # at ODF_RATE
        self._loss: torch.Tensor | None = None

    def attach(self) -> None:
        self._handles.append(add_in_attention(self.backbone.decoder_layers[0], self._signal))

    def prepare(self, features: FeatureBatch) -> None:
        motion = features["interframe.distance"].float()
        mask = features.mask("interframe.distance")
        steps = int(motion.shape[1] / self.fps * ODF_RATE)
        at_odf = resample_time(hold_last(motion, mask), frame_positions(steps, self.fps, ODF_RATE))
        predicted = self.predictor(at_odf[..., None])[..., 0]
        curve = predicted
        if features.training or self.cheat:
            real, real_mask = features["rhythm.odf"].float()[:, :steps], features.mask("rhythm.odf")[:, :steps]
            length = min(real.shape[1], steps)
            error = (predicted[:, :length] - real[:, :length]) ** 2 * real_mask[:, :length]
            self._loss = error.sum() / real_mask[:, :length].sum().clamp(min=1)
            step, total = self.progress
            if step < total / 2:  # teacher forcing early, the prediction later (a target scheduled as an input)
                curve = torch.cat([real[:, :length], predicted[:, length:]], dim=1)
        keep = (features.present > 0).float().to(curve.device)[:, None]
        self._curve = curve.detach() * keep if features.training else curve * keep

    def _signal(self, offset: int, length: int):
        if self._curve is None:
            return None
        positions = frame_positions(torch.arange(offset, offset + length), ODF_RATE, self.rate)
        values = resample_time(self._curve, positions)
        return self.inject(values[..., None].to(self.inject.weight.dtype))

    def auxiliary_losses(self) -> dict[str, torch.Tensor]:
        return {} if self._loss is None else {"onset_mse": self._loss}

    def release(self) -> None:
        self._curve = self._loss = None


@pytest.fixture
def onsets_conditioner():
    CONDITIONERS.register("test_onsets_from_motion")(OnsetsFromMotion)
    yield OnsetsFromMotion
    CONDITIONERS._entries.pop("test_onsets_from_motion", None)


EXPERIMENT = """
name: no_leak
data: {{root: {world}, splits: {{val: 0.2, test: 0.2}}}}
backbone: {{name: {backbone}}}
conditioners:
  - {{name: test_onsets_from_motion}}
train:
  steps: 4
  batch_size: 2
  crop_seconds: 0.4
  warmup_steps: 1
  val_every: 2
  checkpoint_every: 4
  lr: 0.05
  progress: false
  loss_weights: {{test_onsets_from_motion.onset_mse: 0.5}}
"""


@pytest.mark.slow
def test_one_video_with_two_soundtracks_gives_the_same_music(tmp_path, monkeypatch, capsys, onsets_conditioner):
    from toolkit.cli import main
    from toolkit.data.audio import load_music
    from toolkit.features.read import clip_features, video_inputs
    from toolkit.generation import generate_music
    from toolkit.prepare import feature_cache
    from toolkit.training.run import load_run

    world, run_id, client = train_on_tiny_world(tmp_path, monkeypatch, capsys, EXPERIMENT, clips=6)
    history = client.get_metric_history(run_id, "aux.test_onsets_from_motion.onset_mse")
    assert [m.step for m in history] == [1, 2, 3, 4]  # the auxiliary loss is logged under its own name
    assert [m.step for m in client.get_metric_history(run_id, "val_aux.test_onsets_from_motion.onset_mse")] == [2, 4]

    cfg, attached, _ = load_run(run_id)
    conditioner = attached.conditioners["test_onsets_from_motion"]
    assert conditioner.inject.weight.abs().sum() > 0  # trained: the signal it adds is not zero
    rate = attached.backbone.sample_rate
    videos = one_video_two_soundtracks(world, tmp_path, rate)
    cache = feature_cache(cfg)
    odfs = [clip_features(v, cfg, ["rhythm.odf"], cache)["rhythm.odf"] for v in videos]
    assert odfs[0].shape != odfs[1].shape or abs(odfs[0] - odfs[1]).max() > 0.1  # the two musics differ

    def music(video):
        features = video_inputs([video], cfg, attached.input_keys, cache)
        assert "rhythm.odf" not in features
        return generate_music(attached.backbone, [""], 1.0, seed=7, window_seconds=0.5, attached=attached,
                              features=features, fps=float(cfg.features.fps))

    assert torch.equal(music(videos[0]), music(videos[1]))
    outs = [tmp_path / f"out{i}.mp4" for i in range(2)]
    for video, out in zip(videos, outs, strict=True):
        assert main(["generate", str(video), "-o", str(out), "--run", run_id, "--seed", "3",
                     "--window-seconds", "0.5"]) == 0
    assert (load_music(outs[0], rate) == load_music(outs[1], rate)).all()

    # the same conditioner made to read its target at generation fails loudly rather than leaking
    conditioner.cheat = True
    with pytest.raises(TargetAtGeneration, match="rhythm.odf"):
        music(videos[0])


def test_a_music_derived_input_is_refused_when_the_config_loads(tmp_path, onsets_conditioner, monkeypatch):
    from toolkit.config import load_config
    from toolkit.errors import UserError

    monkeypatch.setattr(OnsetsFromMotion, "inputs", ("interframe.distance", "rhythm.odf"))
    experiment = tmp_path / "exp.yaml"
    experiment.write_text("name: x\nconditioners: [{name: test_onsets_from_motion}]\n")
    with pytest.raises(UserError, match=r"inputs \['rhythm.odf'\] are derived from the music"):
        load_config(experiment)


@pytest.mark.slow
def test_nll_gain_is_zero_at_init_and_measures_what_training_took_from_the_video(tmp_path, monkeypatch, capsys,
                                                                                   onsets_conditioner):
    """The suite's `nll_gain` (`toolkit.training.nll_gain`): the decoder's loss on each clip's own music without
    its video minus with it, scored as generation would see it (no targets: the conditioner here feeds the
    real onset curve during the first half of training and must not get it now)."""
    from toolkit.prepare import prepare
    from toolkit.training.model import attach_adapters
    from toolkit.training.nll_gain import VideoNllScorer
    from toolkit.training.run import load_run

    _, run_id, _ = train_on_tiny_world(tmp_path, monkeypatch, capsys, EXPERIMENT, clips=6)
    cfg, attached, _ = load_run(run_id)
    items = prepare(cfg, progress=False).split("val") + prepare(cfg, progress=False).split("test")
    ids = [i.stem for i in items]
    trained = VideoNllScorer(cfg, attached, items).video_nll_gain(ids)
    assert set(trained) == set(ids) and any(abs(g) > 1e-6 for g in trained.values())
    attached.detach()
    fresh = attach_adapters(cfg, attached.backbone).eval()  # zero-initialised injection: the backbone exactly
    assert VideoNllScorer(cfg, fresh, items).video_nll_gain(ids) == {i: 0.0 for i in ids}
    fresh.detach()
