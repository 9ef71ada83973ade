"""KL between paired predictions and the Inception Score: known values."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.metrics.kl import inception_score, pairwise_kl


def test_kl_of_identical_predictions_is_zero(rng):
    p = rng.dirichlet(np.ones(6), size=10)
    assert np.allclose(pairwise_kl(p, p), 0.0, atol=1e-12)


def test_kl_matches_a_hand_computed_value():
    p, q = np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]])
    expected = 0.5 * np.log(0.5 / 0.9) + 0.5 * np.log(0.5 / 0.1)
    assert pairwise_kl(p, q)[0] == pytest.approx(expected)
    assert pairwise_kl(q, p)[0] != pytest.approx(expected)  # direction matters: KL(ref ‖ gen)


def test_kl_survives_zero_probabilities():
    assert np.isfinite(pairwise_kl(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))).all()


def test_inception_score_of_uniform_and_confident_classifiers():
    n_classes = 5
    uniform = np.full((20, n_classes), 1.0 / n_classes)
    confident = np.eye(n_classes)[np.arange(20) % n_classes]  # one-hot, classes evenly used
    collapsed = np.eye(n_classes)[np.zeros(20, dtype=int)]  # confident but always the same class
    assert inception_score(uniform) == pytest.approx(1.0)
    assert inception_score(confident) == pytest.approx(n_classes, rel=1e-4)
    assert inception_score(collapsed) == pytest.approx(1.0, rel=1e-4)
