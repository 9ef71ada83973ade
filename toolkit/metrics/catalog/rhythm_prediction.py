"""How well a model predicts the music's rhythm from the video alone (Diff-V2M's rhythm predictor).

Asks the model (`needs: model`) for its prediction of the music target it reads and the real one, on each clip's
first training crop. `rhythm_pred_corr`: Pearson correlation over time between predicted and real, averaged over
the representation's dimensions (it is in the target's own space, so compare it within one representation, not
across ODF, mel and tempogram). `rhythm_pred_f1`: for a one-dimensional target (the ODF), the F-measure of the
predicted curve's peaks against the clip's true beats, within half a bin of the prediction's rate.
"""

from __future__ import annotations

import mir_eval
import numpy as np
from scipy import signal

from toolkit.metrics.context import EvalContext, TargetPrediction, Unavailable
from toolkit.metrics.registry import Metric, register_metric


def _predictions(ctx: EvalContext) -> dict[str, TargetPrediction]:
    found = ctx.scorer.target_predictions(ctx.ids)
    if not found:
        raise Unavailable("needs a conditioner that predicts a music target from the video (e.g. diffv2m)")
    return found


def mean_correlation(predicted: np.ndarray, target: np.ndarray) -> float:
    """Pearson's r over time per dimension, averaged over dimensions with any variation (NaN if none has)."""
    predicted, target = predicted.reshape(len(predicted), -1), target.reshape(len(target), -1)
    values = []
    for p, t in zip(predicted.T, target.T, strict=True):
        if len(p) > 2 and p.std() > 1e-9 and t.std() > 1e-9:
            values.append(float(np.corrcoef(p, t)[0, 1]))
    return float(np.mean(values)) if values else float("nan")


def peak_times(curve: np.ndarray, rate: float, start: float = 0.0) -> np.ndarray:
    """Times (s) of the curve's local maxima that stand above its median."""
    curve = np.asarray(curve, np.float64).ravel()
    peaks, _ = signal.find_peaks(curve, height=np.median(curve))
    return start + peaks / rate


@register_metric("rhythm_pred_corr", "correlation over time of the rhythm a model predicts from the video with "
                                     "the music's real one (in the target's own space)")
class RhythmPredictionCorrelation(Metric):
    """Per clip: the mean over dimensions of Pearson's r between predicted and real target."""

    needs = ("model",)

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        return {i: mean_correlation(p.predicted, p.target) for i, p in _predictions(ctx).items()}


@register_metric("rhythm_pred_f1", "F-measure of the predicted ODF's peaks against the clip's true beats")
class RhythmPredictionF1(Metric):
    """Per clip: mir_eval's onset F-measure of the predicted one-dimensional rhythm's peaks against the true
    beats inside the predicted span, with a window of half a step of the prediction's rate."""

    needs = ("model", "truth")

    def conventions(self, options) -> tuple[str, ...]:
        return ("half-step",)

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        out = {}
        for clip, p in _predictions(ctx).items():
            beats = ctx.notes.truth.get(clip, {}).get("beats")
            if beats is None or p.predicted.reshape(len(p.predicted), -1).shape[1] != 1:
                continue
            end = p.start + len(p.predicted) / p.rate
            truth = np.asarray([b for b in beats if p.start <= b < end], np.float64)
            estimated = peak_times(p.predicted, p.rate, p.start)
            if truth.size == 0:
                continue
            out[clip] = float(mir_eval.onset.f_measure(truth, estimated, window=0.5 / p.rate)[0])
        if not out:
            raise Unavailable("needs a one-dimensional predicted rhythm (the ODF) and true beats")
        return out
