"""Emotion agreement of generated music: mode against valence, onset density and loudness against arousal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from toolkit.metrics.annotations import Annotations
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.suite import Pair, evaluate_pairs

from .metric_signals import SR, clicks_at, scale_and_chord


def _pairs(tmp_path: Path, clips: dict[str, np.ndarray]) -> list[Pair]:
    pairs = []
    for name, audio in clips.items():
        sf.write(tmp_path / f"{name}.wav", audio, SR)
        pairs.append(Pair(name, tmp_path / f"{name}.wav", tmp_path / f"{name}.wav"))
    return pairs


def _ranks_pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's ρ written out (ranks without ties, then Pearson): the independent check of scipy's."""
    rx, ry = np.argsort(np.argsort(x)).astype(float), np.argsort(np.argsort(y)).astype(float)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / np.sqrt((rx**2).sum() * (ry**2).sum()))


def test_mode_accuracy_counts_the_mode_that_valence_implies(tmp_path: Path):
    modes = ["major", "minor", "major", "minor", "major", "minor"]
    clips = {f"c{i}": scale_and_chord(i, mode) for i, mode in enumerate(modes)}
    # The first four clips' valence agrees with their music's mode, the last two disagree.
    valence = [0.5, -0.5, 0.2, -0.9, -0.3, 0.4]
    notes = Annotations(truth={f"c{i}": {"valence": v} for i, v in enumerate(valence)})
    result = evaluate_pairs(_pairs(tmp_path, clips), SuiteOptions(bootstrap_resamples=50), notes,
                            report=lambda m: None, only=["mode_acc"])
    assert result["per_clip"]["mode_acc[krumhansl]"] == {f"c{i}": float(i < 4) for i in range(6)}
    score = result["metrics"]["mode_acc[krumhansl]"]
    assert score["value"] == pytest.approx(4 / 6) and "Wilson" in score["interval"]


def test_arousal_correlation_of_density_and_loudness(tmp_path: Path):
    rng = np.random.default_rng(0)
    arousal = np.array([-0.9, -0.4, 0.0, 0.3, 0.7, 0.95, -0.2, 0.5])
    order = rng.permutation(len(arousal))  # the density ranking the music gets: a known, imperfect order
    clips = {}
    for i, rank in enumerate(order):
        clicks = np.linspace(0.1, 3.8, 3 + 3 * int(rank))  # 3 .. 24 clicks in 4 s
        clips[f"c{i}"] = clicks_at(list(clicks), 4.0) * (0.05 + 0.1 * i)  # louder by index, not by rank
    notes = Annotations(truth={f"c{i}": {"arousal": float(a)} for i, a in enumerate(arousal)})
    result = evaluate_pairs(_pairs(tmp_path, clips), SuiteOptions(bootstrap_resamples=200), notes,
                            report=lambda m: None, only=["arousal_corr"])
    density = result["metrics"]["arousal_corr[density]"]
    assert density["value"] == pytest.approx(_ranks_pearson(arousal, order), abs=1e-9)
    assert density["low"] <= density["value"] <= density["high"] and density["scope"] == "set"
    loudness = result["metrics"]["arousal_corr[loudness]"]
    rms = [np.sqrt(np.mean(sf.read(tmp_path / f"c{i}.wav")[0] ** 2)) for i in range(len(arousal))]
    assert loudness["value"] == pytest.approx(_ranks_pearson(arousal, np.array(rms)), abs=1e-9)
    assert abs(loudness["value"] - density["value"]) > 0.1  # two measures, two answers


def test_clips_without_emotion_are_skipped_with_the_reason(tmp_path: Path):
    clips = {f"c{i}": scale_and_chord(i, "major") for i in range(3)}
    result = evaluate_pairs(_pairs(tmp_path, clips), SuiteOptions(bootstrap_resamples=20),
                            Annotations(truth={"c0": {"style": "folk"}}), report=lambda m: None,
                            only=["arousal_corr", "mode_acc"])
    assert "arousal_corr[density]" in result["skipped"] and "3 clips" in result["skipped"]["arousal_corr[density]"]
