"""Inter-frame distance of local features: known answers on constructed features, wiring to clip."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.features.interframe import interframe_distance
from toolkit.features.registry import get_extractor


def test_known_answers():
    a = np.zeros((4, 3))
    a[:, 0] = 1.0
    b = np.zeros((4, 3))
    b[:, 1] = 1.0
    # frames: a, a (identical), b (orthogonal to a), 2b (same direction), -2b (opposite)
    local = np.stack([a, a, b, 2 * b, -2 * b])
    np.testing.assert_allclose(interframe_distance(local), [0.0, 0.0, 1.0, 0.0, 2.0], atol=1e-7)


def test_patches_are_flattened_not_pooled():
    # Same tokens in a different spatial order: pooling would call these identical, flattening does not.
    f0 = np.array([[1.0, 0.0], [0.0, 1.0]])
    f1 = f0[::-1]
    assert interframe_distance(np.stack([f0, f1]))[1] == pytest.approx(1.0)
    assert np.allclose(f0.mean(axis=0), f1.mean(axis=0))


def test_single_frame_and_zero_features():
    np.testing.assert_array_equal(interframe_distance(np.ones((1, 5, 2))), [0.0])
    np.testing.assert_allclose(interframe_distance(np.zeros((3, 2, 2))), [0.0, 0.0, 0.0])
    out = interframe_distance(np.stack([np.zeros((2, 2)), np.ones((2, 2))]))
    assert out[1] == pytest.approx(1.0)


def test_extractor_reads_clip_local_features_and_keys_on_clip(frames_of):
    ext = get_extractor("interframe")
    local = np.random.default_rng(0).normal(size=(5, 7, 4)).astype(np.float32)
    given = ext(None, clip={"local": local, "global": np.zeros((5, 2))})
    np.testing.assert_array_equal(given["distance"], interframe_distance(local))
    assert get_extractor("interframe", clip={"seed": 1}).config() != ext.config()

    # Standalone, it runs its own clip: still frames give 0, a cut gives a clearly positive distance.
    still = np.full((3, 40, 40, 3), 90, dtype=np.uint8)
    cut = np.concatenate([still, np.full((2, 40, 40, 3), 250, dtype=np.uint8)])
    distance = ext(frames_of(cut))["distance"]
    np.testing.assert_allclose(distance[[0, 1, 2, 4]], 0.0, atol=1e-6)
    assert distance[3] > 1e-3
