"""KL between paired predictions and the Inception Score: known answers for each convention.

The audiocraft values are written out by hand from its formula, Σ p_ref·(log p_ref − log(p_gen + 1e-6)), and
checked against `torch.nn.functional.kl_div` called the way audiocraft and audioldm_eval call it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolkit.metrics.kl import (
    inception_score,
    inception_score_splits,
    kl_from_logits,
    pairwise_kl,
)

EPS = 1e-6  # audiocraft's epsilon, on the generated side


def _torch_kl(p_ref: np.ndarray, p_gen: np.ndarray) -> np.ndarray:
    """audiocraft's `kl_divergence(pred_probs=p_gen, target_probs=p_ref)`: one call to torch's kl_div."""
    import torch

    ref, gen = torch.from_numpy(p_ref), torch.from_numpy(p_gen)
    return torch.nn.functional.kl_div((gen + EPS).log(), ref, reduction="none").sum(-1).numpy()


def test_one_hot_miss_is_capped_at_minus_log_eps():
    ref, gen = np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])
    # audiocraft: only the reference's class counts: 1·(log 1 − log(0 + 1e-6)) = 13.8155...
    assert pairwise_kl(ref, gen)[0] == pytest.approx(-math.log(EPS), rel=1e-12)
    assert pairwise_kl(ref, gen)[0] == pytest.approx(13.815510557964274, rel=1e-12)
    # the older floor-and-renormalise variant: p = (1, 1e-8, 1e-8)/Z, q = (1e-8, 1, 1e-8)/Z
    z = 1 + 2e-8
    floor = (1 / z) * math.log(1 / 1e-8) + (1e-8 / z) * math.log(1e-8)
    assert pairwise_kl(ref, gen, convention="floor")[0] == pytest.approx(floor, rel=1e-9)
    assert floor == pytest.approx(18.420680, abs=1e-5)
    np.testing.assert_allclose(pairwise_kl(ref, gen), _torch_kl(ref, gen), rtol=1e-12)


def test_one_hot_hit_is_minus_log_one_plus_eps():
    ref = np.array([[1.0, 0.0, 0.0]])
    assert pairwise_kl(ref, ref)[0] == pytest.approx(-math.log1p(EPS), rel=1e-9)  # ≈ −1e-6, not 0
    assert pairwise_kl(ref, ref, convention="floor")[0] == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    "a,audiocraft_value,floor_value",
    [
        (15.0, 13.548603, 14.999986),  # p_gen of the reference class 3e-7: eps dominates it, the floor does not
        (25.0, 13.815497, 18.420680),  # 1.4e-11: both are capped, far below the true KL of 25
    ],
)
def test_peaked_softmax_against_the_hand_formula(a, audiocraft_value, floor_value):
    # softmax of logits (a, 0, 0) vs (0, a, 0): the true KL is (p0 − p1)·a
    p0, p1 = 1 / (1 + 2 * math.exp(-a)), math.exp(-a) / (1 + 2 * math.exp(-a))
    ref, gen = np.array([[p0, p1, p1]]), np.array([[p1, p0, p1]])
    assert (p0 - p1) * a == pytest.approx(a, abs=1e-4)
    audiocraft = p0 * math.log(p0 / (p1 + EPS)) + p1 * math.log(p1 / (p0 + EPS)) + p1 * math.log(p1 / (p1 + EPS))
    assert pairwise_kl(ref, gen)[0] == pytest.approx(audiocraft, rel=1e-10)
    assert audiocraft == pytest.approx(audiocraft_value, abs=1e-6)
    assert pairwise_kl(ref, gen, convention="floor")[0] == pytest.approx(floor_value, abs=1e-6)
    np.testing.assert_allclose(pairwise_kl(ref, gen), _torch_kl(ref, gen), rtol=1e-12)


def test_hand_computed_value_and_direction():
    p, q = np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]])
    expected = 0.5 * math.log(0.5 / (0.9 + EPS)) + 0.5 * math.log(0.5 / (0.1 + EPS))
    assert pairwise_kl(p, q)[0] == pytest.approx(expected, rel=1e-12)
    assert pairwise_kl(q, p)[0] != pytest.approx(expected)  # direction matters: KL(ref ‖ gen)
    exact = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    assert pairwise_kl(p, q, convention="floor")[0] == pytest.approx(exact, rel=1e-7)


def test_random_rows_match_torch_kl_div(rng):
    p, q = rng.dirichlet(np.ones(6) * 0.3, size=20), rng.dirichlet(np.ones(6) * 0.3, size=20)
    np.testing.assert_allclose(pairwise_kl(p, q), _torch_kl(p, q), rtol=1e-10)


def test_unknown_convention_and_shape_mismatch_raise():
    with pytest.raises(ValueError, match="unknown KL convention"):
        pairwise_kl(np.eye(2), np.eye(2), convention="symmetric")
    with pytest.raises(ValueError, match="shapes differ"):
        pairwise_kl(np.eye(2), np.eye(3))


def test_audioldm_eval_softmax_and_sigmoid_kl_from_logits():
    import torch

    ref_logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    gen_logits = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 4.0]])
    # softmax ("KL"): the audiocraft formula over softmax(logits); row 0 by hand (gen uniform).
    s = np.exp(ref_logits[0]) / np.exp(ref_logits[0]).sum()
    row0 = sum(si * math.log(si / (1 / 3 + EPS)) for si in s)
    softmax_kl = kl_from_logits(ref_logits, gen_logits)
    assert softmax_kl[0] == pytest.approx(row0, rel=1e-12)
    # sigmoid ("KL_Sigmoid"): classwise sigmoid, unnormalised; row 0 by hand (gen sigmoids all 1/2).
    sig = 1 / (1 + np.exp(-ref_logits[0]))
    sig_row0 = sum(si * math.log(si / (0.5 + EPS)) for si in sig)
    sigmoid_kl = kl_from_logits(ref_logits, gen_logits, activation="sigmoid")
    assert sigmoid_kl[0] == pytest.approx(sig_row0, rel=1e-12)
    # audioldm_eval reports kl_div(..., reduction="sum") / n: the mean of these per-pair values.
    r, g = torch.from_numpy(ref_logits), torch.from_numpy(gen_logits)
    sm = torch.nn.functional.kl_div((g.softmax(1) + EPS).log(), r.softmax(1), reduction="sum") / len(g)
    sg = torch.nn.functional.kl_div((g.sigmoid() + EPS).log(), r.sigmoid(), reduction="sum") / len(g)
    assert softmax_kl.mean() == pytest.approx(float(sm), rel=1e-10)
    assert sigmoid_kl.mean() == pytest.approx(float(sg), rel=1e-10)
    # Sigmoid outputs are not a distribution, so a confident generated tag can drive it below 0.
    assert kl_from_logits(np.array([[-3.0]]), np.array([[3.0]]), activation="sigmoid")[0] < 0


def test_inception_score_of_uniform_confident_and_collapsed_predictions():
    n_classes = 5
    uniform = np.full((20, n_classes), 1.0 / n_classes)
    confident = np.eye(n_classes)[np.arange(20) % n_classes]  # one-hot, classes evenly used
    collapsed = np.eye(n_classes)[np.zeros(20, dtype=int)]  # confident but always the same class
    assert inception_score(uniform) == pytest.approx(1.0)
    assert inception_score(confident, splits=1) == pytest.approx(n_classes, rel=1e-12)
    assert inception_score(collapsed) == pytest.approx(1.0, rel=1e-12)


def test_inception_score_splits_as_audioldm_eval():
    # Unshuffled, 2 splits: [class 0, class 1] scores 2, [class 0, class 0] scores 1.
    rows = np.eye(3)[[0, 1, 0, 0]]
    assert inception_score_splits(rows, splits=2, seed=None) == pytest.approx((1.5, 0.5))
    # Default: 10 splits after RandomState(2020).permutation. 20 one-hot rows → splits of 2 one-hot rows,
    # each scoring 2 if its two classes differ and 1 if they agree.
    labels = np.arange(20) % 5
    rows = np.eye(5)[labels]
    shuffled = labels[np.random.RandomState(2020).permutation(20)].reshape(10, 2)
    per_split = np.where(shuffled[:, 0] != shuffled[:, 1], 2.0, 1.0)
    mean, std = inception_score_splits(rows)
    assert (mean, std) == pytest.approx((per_split.mean(), per_split.std()), rel=1e-12)
    assert inception_score(rows) == pytest.approx(mean)
    with pytest.raises(ValueError, match="splits"):
        inception_score(rows[:5])  # 10 splits of 5 clips


def test_panns_classifier_reads_logits_not_renormalised_sigmoids(monkeypatch):
    """A stand-in for panns_inference's AudioTagging: its sigmoid saturates at 1.0 in float32, the hook on
    `fc_audioset` still reads the logit."""
    import torch

    from toolkit.metrics import embeddings
    from toolkit.metrics.classifier import PannsClassifier

    class TinyCnn14(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc_audioset = torch.nn.Linear(1, 3)
            torch.nn.init.zeros_(self.fc_audioset.weight)
            with torch.no_grad():
                self.fc_audioset.bias.copy_(torch.tensor([30.0, 0.0, -30.0]))

        def forward(self, audio, mixup_lambda=None):
            return {"clipwise_output": torch.sigmoid(self.fc_audioset(audio.mean(-1, keepdim=True)))}

    class Tagger:
        def __init__(self):
            self.model = TinyCnn14()

        def inference(self, audio):
            with torch.no_grad():
                out = self.model(torch.from_numpy(audio))
            return out["clipwise_output"].numpy(), None

    class FakePanns:
        def __init__(self, weights):
            self.model = Tagger()

    monkeypatch.setattr(embeddings, "PannsEmbedding", FakePanns)
    classifier = PannsClassifier("unused")
    audios = [np.zeros(320, np.float32), np.ones(320, np.float32)]
    np.testing.assert_allclose(classifier.predict_logits(audios), [[30, 0, -30]] * 2, atol=1e-6)
    expected = np.exp([30.0, 0.0, -30.0]) / np.exp([30.0, 0.0, -30.0]).sum()
    np.testing.assert_allclose(classifier.predict_proba(audios), [expected] * 2, rtol=1e-6)
