"""Diff-V2M end to end on a tiny world: `toolkit train` with the rhythm predictor's loss logged, then the same
video with two soundtracks generates the same music (the low-resolution ODF is a target, never an input)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from .conftest import one_video_two_soundtracks, train_on_tiny_world

EXPERIMENT = """
name: diffv2m_tiny
data: {{root: {world}, splits: {{val: 0.2, test: 0.2}}}}
backbone: {{name: {backbone}}}
features:
  extractors:
    lowres_rhythm: {{rate: 8.0, bins: 4}}
    colour_mood: {{bins: 4}}
conditioners:
  - {{name: diffv2m, rhythm: odf, rate: 8.0, clip_dim: 32, emotion_dim: 68, predictor_width: 16,
     predictor_layers: 1, predictor_heads: 2{extra}}}
{head}train:
  steps: 4
  batch_size: 2
  crop_seconds: 1.0
  warmup_steps: 1
  val_every: 2
  checkpoint_every: 4
  lr: 0.05
  progress: false
"""


ROUTES = {
    "decoder": ("", ""),
    "diffusion": (", route: diffusion, fusion: film_select, dit_width: 32, dit_layers: 2, dit_heads: 2",
                  "head:\n  name: plan_refine\n  plan_refine: {{patch_size: 4, fsq_levels: \"5,5,4\", plan_dim: 16, "
                  "dit_width: 32, dit_layers: 2, euler_steps: 3}}\n"),
}


@pytest.mark.slow
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_diffv2m_trains_and_reads_no_music_at_generation(tmp_path, monkeypatch, capsys, route):
    from toolkit.features.read import clip_features, video_inputs
    from toolkit.generation import generate_music
    from toolkit.prepare import feature_cache
    from toolkit.training.run import load_run

    extra, head = ROUTES[route]
    experiment = EXPERIMENT.replace("{extra}", extra).replace("{head}", head)
    world, run_id, client = train_on_tiny_world(tmp_path, monkeypatch, capsys, experiment, clips=6)
    history = client.get_metric_history(run_id, "aux.diffv2m.rhythm_mse")
    assert [m.step for m in history] == [1, 2, 3, 4] and all(m.value > 0 for m in history)

    cfg, attached, _ = load_run(run_id)
    conditioner = attached.conditioners["diffv2m"]
    assert any(b.attention["rhythm"].gate.abs() > 0 for b in conditioner.blocks)  # trained off its init
    assert attached.head.name == ("plan_refine" if route == "diffusion" else "tokens")
    rate = attached.backbone.sample_rate
    videos = one_video_two_soundtracks(world, tmp_path, rate)
    cache = feature_cache(cfg)
    odfs = [clip_features(v, cfg, ["lowres_rhythm.odf"], cache)["lowres_rhythm.odf"] for v in videos]
    assert abs(odfs[0] - odfs[1]).max() > 0.1  # the two soundtracks' rhythms differ

    def music(video):
        features = video_inputs([video], cfg, attached.input_keys, cache)
        assert "lowres_rhythm.odf" not in features
        return generate_music(attached.backbone, [""], 1.0, seed=7, window_seconds=0.5, attached=attached,
                              features=features, fps=float(cfg.features.fps))

    assert torch.equal(music(videos[0]), music(videos[1]))

    # What the metrics read: the predicted and the real ODF over the same steps of each clip's first crop.
    from toolkit.data.dataset import scan_dataset
    from toolkit.training.nll_gain import VideoNllScorer

    items = scan_dataset(world).items
    found = VideoNllScorer(cfg, attached, items).target_predictions([items[0].stem, "missing"])
    assert list(found) == [items[0].stem]
    prediction = found[items[0].stem]
    assert prediction.key == "lowres_rhythm.odf" and prediction.rate == 8.0
    assert prediction.predicted.shape == prediction.target.shape and 4 <= len(prediction.target) <= 9  # 1 s at 8 Hz
    assert np.isfinite(prediction.predicted).all()
