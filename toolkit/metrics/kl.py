"""KL divergence between paired class predictions, and the Inception Score of a generated set.

Both read a classifier's class probabilities (see `toolkit.metrics.classifier`); outputs name the classifier,
e.g. `kl[micro-style-cnn]`, because the numbers are only comparable under the same classifier.

Conventions (each a keyword argument; the default is the field's):
- KL is KL(p_ref ‖ p_gen) per pair, as audiocraft's `audiocraft/metrics/kld.py` computes it (`kld`, its
  `kld_pq`): `torch.nn.functional.kl_div(log(p_gen + 1e-6), p_ref)` summed over classes. The epsilon goes on
  the generated side only, nothing is renormalised, and a zero reference probability contributes 0. This caps
  a confident miss at −log 1e-6 ≈ 13.8 nats. `convention="floor"` is the toolkit's older variant: both sides
  floored at 1e-8 and renormalised (caps at ≈ 18.4 nats); it does not match published numbers.
- audioldm_eval (`audioldm_eval/metrics/kl.py`) uses the same formula on a tagger's logits, reported twice:
  "KL" over softmax(logits) and "KL_Sigmoid" over sigmoid(logits), classwise and unnormalised
  (`kl_from_logits`).
- IS follows audioldm_eval's `audioldm_eval/metrics/isc.py`: shuffle with `RandomState(2020)`, cut into 10
  splits, exp(mean KL(p(y|x) ‖ p(y))) per split, mean (and population std) over splits.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import expit, rel_entr, softmax

KlConvention = Literal["audiocraft", "floor"]
AUDIOCRAFT_EPS = 1e-6  # audiocraft's and audioldm_eval's epsilon, added to the generated side
FLOOR_EPS = 1e-8  # the older floor-both-sides-and-renormalise variant
IS_SPLITS, IS_SEED = 10, 2020  # audioldm_eval's calculate_isc arguments in its evaluation


def pairwise_kl(
    p_reference: np.ndarray,
    p_generated: np.ndarray,
    convention: KlConvention = "audiocraft",
    eps: float | None = None,
) -> np.ndarray:
    """KL(p_ref ‖ p_gen) in nats for each row pair of two (n, classes) probability arrays.

    `convention="audiocraft"` (default): Σ p_ref·(log p_ref − log(p_gen + eps)), eps = 1e-6, rows as given.
    `convention="floor"`: both sides floored at eps = 1e-8 and renormalised, then the exact KL.
    """
    p = np.atleast_2d(np.asarray(p_reference, np.float64))
    q = np.atleast_2d(np.asarray(p_generated, np.float64))
    if p.shape != q.shape:
        raise ValueError(f"prediction shapes differ: {p.shape} vs {q.shape}")
    if convention == "audiocraft":
        # rel_entr is x·log(x/y) with 0 where x = 0: torch's kl_div (xlogy) does the same.
        return rel_entr(p, q + (AUDIOCRAFT_EPS if eps is None else eps)).sum(axis=1)
    if convention == "floor":
        floor = FLOOR_EPS if eps is None else eps
        p, q = _floor_normalise(p, floor), _floor_normalise(q, floor)
        return rel_entr(p, q).sum(axis=1)
    raise ValueError(f"unknown KL convention {convention!r} (expected 'audiocraft' or 'floor')")


def kl_from_logits(
    logits_reference: np.ndarray,
    logits_generated: np.ndarray,
    activation: Literal["softmax", "sigmoid"] = "softmax",
) -> np.ndarray:
    """Per-pair KL from a tagger's logits, as audioldm_eval computes it for PANNs CNN14.

    `softmax` (audioldm_eval's "KL", the default): the audiocraft formula on softmax(logits). `sigmoid`
    ("KL_Sigmoid"): the same sum over classes of sigmoid(logits), which are not a distribution (no
    renormalisation, no 1 − p term), so values are not bounded below by 0.
    """
    ref = np.atleast_2d(np.asarray(logits_reference, np.float64))
    gen = np.atleast_2d(np.asarray(logits_generated, np.float64))
    if activation == "softmax":
        return pairwise_kl(softmax(ref, axis=1), softmax(gen, axis=1))
    if activation == "sigmoid":
        return pairwise_kl(expit(ref), expit(gen))
    raise ValueError(f"unknown activation {activation!r} (expected 'softmax' or 'sigmoid')")


def inception_score_splits(
    p_generated: np.ndarray, splits: int = IS_SPLITS, seed: int | None = IS_SEED
) -> tuple[float, float]:
    """(mean, std) over `splits` of exp E_x[KL(p(y|x) ‖ p(y))], p(y) the split's mean prediction.

    As audioldm_eval: rows shuffled by `np.random.RandomState(seed).permutation` (no shuffle when `seed` is
    None), split i is rows [i·n // splits, (i+1)·n // splits), std is the population std. Each split is a
    set of n / splits clips, so IS is at most n / splits: at small n, `splits=1` is the informative choice.
    """
    p = np.atleast_2d(np.asarray(p_generated, np.float64))
    n = p.shape[0]
    if not 1 <= splits <= n:
        raise ValueError(f"need 1 <= splits <= n_clips, got splits={splits} for {n} clips")
    if seed is not None:
        p = p[np.random.RandomState(seed).permutation(n)]
    scores = []
    for i in range(splits):
        chunk = p[i * n // splits : (i + 1) * n // splits]
        marginal = chunk.mean(axis=0, keepdims=True)
        scores.append(np.exp(rel_entr(chunk, marginal).sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def inception_score(p_generated: np.ndarray, splits: int = IS_SPLITS, seed: int | None = IS_SEED) -> float:
    """Mean IS over splits (see `inception_score_splits`): 1 for identical (or uniform) predictions, up to
    min(n_classes, clips per split) when they are confident and spread evenly over the classes."""
    return inception_score_splits(p_generated, splits, seed)[0]


def _floor_normalise(probs: np.ndarray, floor: float) -> np.ndarray:
    probs = np.clip(probs, floor, None)
    return probs / probs.sum(axis=1, keepdims=True)
