"""KL divergence between paired class predictions, and the Inception Score of a generated set.

Both read a classifier's class probabilities (see `toolkit.metrics.classifier`); outputs name the classifier,
e.g. `kl[micro-style-cnn]`, because the numbers are only comparable under the same classifier.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-8


def pairwise_kl(p_reference: np.ndarray, p_generated: np.ndarray) -> np.ndarray:
    """KL(p_ref ‖ p_gen) in nats for each row pair of two (n, classes) probability arrays."""
    p = _normalise(p_reference)
    q = _normalise(p_generated)
    if p.shape != q.shape:
        raise ValueError(f"prediction shapes differ: {p.shape} vs {q.shape}")
    return np.sum(p * (np.log(p) - np.log(q)), axis=1)


def inception_score(p_generated: np.ndarray) -> float:
    """exp E_x[KL(p(y|x) ‖ p(y))]: 1 for identical (or uniform) predictions, up to n_classes when they are
    confident and spread evenly over the classes."""
    p = _normalise(p_generated)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


def _normalise(probs: np.ndarray) -> np.ndarray:
    probs = np.clip(np.atleast_2d(np.asarray(probs, np.float64)), _EPS, None)
    return probs / probs.sum(axis=1, keepdims=True)
