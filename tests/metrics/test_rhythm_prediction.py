"""Rhythm-prediction metrics on predictions whose agreement with the truth is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from toolkit.metrics.annotations import Annotations
from toolkit.metrics.catalog.rhythm_prediction import mean_correlation, peak_times
from toolkit.metrics.context import TargetPrediction
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.suite import Pair, evaluate_pairs

RATE = 8.0


class FakeScorer:
    def __init__(self, predictions: dict[str, TargetPrediction]) -> None:
        self.predictions = predictions

    def video_nll_gain(self, ids):
        return {i: 0.0 for i in ids}

    def target_predictions(self, ids):
        return {i: self.predictions[i] for i in ids if i in self.predictions}


def _pairs(tmp_path: Path, ids: list[str]) -> list[Pair]:
    for i in ids:
        sf.write(tmp_path / f"{i}.wav", np.zeros(22050, np.float32), 22050)
    return [Pair(i, tmp_path / f"{i}.wav", tmp_path / f"{i}.wav") for i in ids]


def test_correlation_and_peak_f1_known_answers(tmp_path: Path):
    beats = np.arange(0.25, 4.0, 0.5)  # 8 beats in 4 s, on steps 2, 6, 10, ... of an 8 Hz grid
    truth_curve = np.zeros(32)
    truth_curve[np.rint(beats * RATE).astype(int)] = 1.0
    perfect = TargetPrediction("lowres_rhythm.odf", truth_curve[:, None] * 2 + 1, truth_curve[:, None], RATE)
    shifted = TargetPrediction("lowres_rhythm.odf", np.roll(truth_curve, 2)[:, None], truth_curve[:, None], RATE)
    scorer = FakeScorer({"a": perfect, "b": shifted})
    notes = Annotations(truth={"a": {"beats": beats.tolist()}, "b": {"beats": beats.tolist()}})
    result = evaluate_pairs(_pairs(tmp_path, ["a", "b"]), SuiteOptions(bootstrap_resamples=20), notes,
                            report=lambda m: None, scorer=scorer, only=["rhythm_pred_corr", "rhythm_pred_f1"])
    corr = result["per_clip"]["rhythm_pred_corr"]
    assert corr["a"] == pytest.approx(1.0)  # an affine copy of the truth
    assert corr["b"] == pytest.approx(np.corrcoef(np.roll(truth_curve, 2), truth_curve)[0, 1])
    f1 = result["per_clip"]["rhythm_pred_f1[half-step]"]
    assert f1 == pytest.approx({"a": 1.0, "b": 0.0})  # two steps (0.25 s) late: outside half a step


def test_peak_times_and_correlation_helpers():
    curve = np.array([0, 3, 0, 0, 1, 0, 0, 5, 0], float)
    assert peak_times(curve, 4.0, start=1.0).tolist() == [1.25, 2.0, 2.75]
    assert np.isnan(mean_correlation(np.ones((5, 1)), np.arange(5.0)[:, None]))  # a flat prediction
    two = np.stack([np.arange(6.0), np.arange(6.0) ** 2], 1)
    assert mean_correlation(two, two) == pytest.approx(1.0)


def test_models_that_predict_nothing_skip_with_the_reason(tmp_path: Path):
    result = evaluate_pairs(_pairs(tmp_path, ["a"]), SuiteOptions(bootstrap_resamples=20), Annotations(),
                            report=lambda m: None, scorer=FakeScorer({}), only=["rhythm_pred_corr"])
    assert "predicts a music target" in result["skipped"]["rhythm_pred_corr"]
