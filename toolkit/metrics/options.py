"""The metrics suite's options: which models the metrics use and how confidence intervals are drawn.

Owned here, below `config`, so the suite needs no config code; the config's `evaluation` section extends this
class with what only generation for evaluation reads (`toolkit.config.sections.evaluation.EvalConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from toolkit.utils.ranges import Range


@dataclass
class SuiteOptions:
    """Metric settings for `toolkit.metrics.suite`.

    `embedding` feeds FAD and density/coverage; `mel-stats` is computed by the toolkit itself, the others
    (vggish, panns-cnn14, clap) need `embedding_weights`. `classifier` feeds KL and IS: `micro-style-cnn`
    trains on `classifier_world` (a folder with manifest.jsonl; default: the reference set's manifest),
    `panns-cnn14` needs `classifier_weights`.
    """

    RANGES: ClassVar[dict[str, Range]] = {
        "k": Range(1),
        "bootstrap_resamples": Range(1),
        "confidence": Range(0, 1, False, False),
        "tb_tolerance_s": Range(0, low_inclusive=False),
        "tempo_tolerance": Range(0, 1, False, False),
    }

    embedding: str = "mel-stats"
    embedding_weights: str | None = None
    classifier: str = "micro-style-cnn"
    classifier_weights: str | None = None
    classifier_world: str | None = None
    k: int = 5  # nearest neighbours for density / coverage
    beat_resolution_hz: float = 1.0  # LORIS bins onsets per second; 5.0 is a common finer variant
    tb_tolerance_s: float = 0.1  # transition–beat match window (±)
    tempo_tolerance: float = 0.08  # relative tempo error counted as correct (MIREX: 8%)
    bootstrap_resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
