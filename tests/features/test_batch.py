"""Batching features, dropping video rows, and resampling curves onto the decoder's frame grid."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toolkit.errors import UserError
from toolkit.features.batch import collate_features, drop_video, read_feature, stack_with_null_video
from toolkit.features.resample import frame_positions, hold_last, resample_mask, resample_time


def clip(frames: int, offset: float) -> dict:
    return {
        "clip": {"global": np.full((frames, 3), offset, dtype=np.float32), "local": np.zeros((frames, 2, 3))},
        "interframe": {"distance": np.arange(frames, dtype=np.float32) + offset},
        "shots": {"boundaries": np.array([0.0])},
    }


def test_collate_pads_keeps_only_requested_keys_and_masks():
    batch = collate_features([clip(3, 0.0), clip(5, 10.0)], ["interframe.distance", "clip.global"])
    assert set(batch) == {"interframe.distance", "clip.global"}
    assert batch["interframe.distance"].tolist() == [[0, 1, 2, 0, 0], [10, 11, 12, 13, 14]]
    assert batch.mask("interframe.distance").tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert batch["clip.global"].shape == (2, 5, 3) and batch["clip.global"][0, 3:].abs().sum() == 0


def test_missing_feature_is_a_user_error_naming_it():
    with pytest.raises(UserError, match="interframe.distance"):
        read_feature({"clip": {"global": 1}}, "interframe.distance")


def test_drop_and_null_stacking_zero_only_the_right_rows():
    batch = collate_features([clip(3, 0.0), clip(5, 10.0)], ["interframe.distance"])
    key = "interframe.distance"
    dropped = drop_video(batch, torch.tensor([True, False]))
    assert dropped.mask(key).tolist() == [[0] * 5, [1, 1, 1, 1, 1]]
    assert batch.mask(key)[0].sum() == 3  # the input is not modified
    stacked = stack_with_null_video(batch)
    assert stacked[key].shape == (4, 5)
    assert torch.equal(stacked.mask(key)[:2], batch.mask(key)) and stacked.mask(key)[2:].sum() == 0


def test_resampling_known_answers():
    curve = torch.tensor([[0.0, 2.0, 4.0]])
    # 8 fps features onto a 16 Hz grid: steps sit at half-frame positions
    positions = frame_positions(6, 8.0, 16.0)
    assert positions.tolist() == [0, 0.5, 1, 1.5, 2, 2.5]
    assert resample_time(curve, positions).tolist() == [[0, 1, 2, 3, 4, 4]]  # held past the end
    assert resample_mask(torch.tensor([[1.0, 1.0, 0.0]]), positions).tolist() == [[1, 1, 1, 1, 0, 0]]
    held = hold_last(torch.tensor([[1.0, 5.0, 0.0, 0.0]]), torch.tensor([[1.0, 1.0, 0.0, 0.0]]))
    assert held.tolist() == [[1, 5, 5, 5]]
