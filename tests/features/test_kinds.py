"""Each feature kind is cut by its own rule: shot ids stay integers through crop, collation and windowing, a
50 Hz curve is cut at 50 Hz positions, events and segments move to the window's clock, per-clip values stay."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toolkit.features.batch import FeatureBatch, TargetAtGeneration
from toolkit.features.kinds import CLIP, FRAMES, Feature, collate, retime
from toolkit.training.data import Clip, ClipSet

FPS, RATE, CODEC = 8.0, 50.0, 50.0
SHOT = Feature("frames", categorical=True)
CURVE = Feature("series", rate=RATE)
KINDS = {"shots.index": SHOT, "rhythm.odf": CURVE, "clip.global": FRAMES, "shots.boundaries": Feature("events"),
         "story.rows": Feature("segments"), "rhythm.tempo": CLIP}


def clip_features(seconds: float = 4.0) -> dict[str, np.ndarray]:
    frames = int(seconds * FPS)
    return {
        "shots.index": np.repeat(np.arange(4), frames // 4).astype(np.int64),  # ids 0..3, 8 frames each
        "rhythm.odf": np.arange(int(seconds * RATE), dtype=np.float32),  # value = its 50 Hz index
        "clip.global": np.arange(frames, dtype=np.float32)[:, None].repeat(2, 1),
        "shots.boundaries": np.array([1.0, 2.0, 3.0]),
        "story.rows": np.array([[0.0, 1.0, 7.0], [1.0, 1.0, 8.0], [2.0, 2.0, 9.0]], dtype=np.float32),
        "rhythm.tempo": np.array([120.0]),
    }


def test_shot_ids_stay_integers_and_the_50hz_curve_is_cut_at_50hz_positions():
    clips = [Clip(stem=f"c{i}", codes=torch.zeros(2, 200, dtype=torch.long), features=clip_features())
             for i in range(3)]
    crops = ClipSet(clips, CODEC, FPS, 1.0, list(KINDS), kinds=KINDS)
    batch = crops.sample(3, torch.Generator().manual_seed(5))
    features = batch.features
    shots = features["shots.index"]
    assert shots.dtype == torch.long and set(shots.unique().tolist()) <= {0, 1, 2, 3}
    for row in range(3):
        start_frame = int(features["clip.global"][row, 0, 0])  # frame-major values name their frame
        start = start_frame / FPS
        # 50 Hz: the first sample is the curve at start·50 (not at a video-frame index), one per 20 ms
        odf = features["rhythm.odf"][row]
        assert odf[0] == pytest.approx(start * RATE) and torch.allclose(odf[1:] - odf[:-1], torch.ones(len(odf) - 1))
        assert len(odf) == 51 and features.mask("rhythm.odf")[row].all()
        # the shot on screen at each video frame of the crop
        expected = torch.tensor([(start_frame + k) // 8 for k in range(9)])
        assert torch.equal(shots[row], expected.clamp(max=3))
        assert torch.equal(batch.codes[row], clips[0].codes[:, round(start * CODEC): round(start * CODEC) + 50])


def test_windows_at_fractional_times_look_up_categories_and_interpolate_curves():
    whole = FeatureBatch.collate([clip_features()], list(KINDS), KINDS)
    window = whole.window(1.01, 1.5, FPS)  # 1.01 s: between video frames 8 and 9, between 50 Hz samples
    assert window["shots.index"].dtype == torch.long
    assert window["shots.index"][0, :3].tolist() == [1, 1, 1]  # frame 8 (shot 1) is on screen at 1.01 s
    assert window["rhythm.odf"][0, 0].item() == pytest.approx(50.5)  # interpolated at the 50 Hz position
    assert window["clip.global"][0, 0, 0].item() == pytest.approx(8.08)
    times, mask = window["shots.boundaries"][0], window.mask("shots.boundaries")[0]
    assert times[mask > 0].tolist() == pytest.approx([0.99])  # only the cut at 2 s is inside [1.01, 2.51)
    rows, rows_mask = window["story.rows"][0], window.mask("story.rows")[0]
    assert rows_mask.tolist() == [0, 1, 1] and rows[1, 0].item() == pytest.approx(-0.01)  # overlaps the start
    assert rows[1, 2].item() == 8.0  # other columns are untouched
    assert torch.equal(window["rhythm.tempo"], whole["rhythm.tempo"])


def test_steps_past_the_end_are_masked_and_padding_is_per_key():
    short, long = clip_features(2.0), clip_features(4.0)
    whole = FeatureBatch.collate([short, long], list(KINDS), KINDS)
    assert whole.mask("rhythm.odf").sum(-1).tolist() == [100, 200]
    assert whole.mask("clip.global").sum(-1).tolist() == [16, 32]  # each key has its own mask
    window = whole.window(torch.tensor([1.5, 1.5]), 1.0, FPS)
    assert window.mask("rhythm.odf")[0].sum() == 25 and window.mask("rhythm.odf")[1].sum() == 51


def test_a_withheld_target_raises_and_kinds_refuse_bad_declarations():
    whole = FeatureBatch.collate([clip_features()], ["clip.global", "rhythm.odf"], KINDS)
    generation = whole.select(["clip.global"], withheld=["rhythm.odf"])
    assert "rhythm.odf" not in generation
    with pytest.raises(TargetAtGeneration, match="rhythm.odf"):
        generation["rhythm.odf"]
    with pytest.raises(ValueError, match="rate"):
        Feature("series")
    with pytest.raises(ValueError, match="kind"):
        Feature("pixels")


def test_collate_and_retime_known_answers():
    value, mask = collate(FRAMES, [np.array([0.0, 2.0, 4.0])])
    out, out_mask = retime(FRAMES, value, mask, 0.0625, 0.25, FPS)  # half a frame in, 3 steps at 8 fps
    assert out.tolist() == [[1.0, 3.0, 4.0]] and out_mask.tolist() == [[1, 1, 1]]
    out, out_mask = retime(FRAMES, value, mask, 0.25, 0.25, FPS)
    assert out_mask.tolist() == [[1, 0, 0]]  # frames 3 and 4 do not exist
