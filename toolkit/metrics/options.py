"""The metrics suite's options: which models the metrics use and how confidence intervals are drawn.

Owned here, below `config`, so the suite needs no config code; the config's `evaluation` section extends this
class with what only generation for evaluation reads (`toolkit.config.sections.evaluation.EvalConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from toolkit.errors import UserError
from toolkit.utils.ranges import Range


@dataclass
class SuiteOptions:
    """Metric settings for `toolkit.metrics.suite`.

    `embedding` feeds FAD and density/coverage; `mel-stats` is computed by the toolkit itself, the others
    (vggish, panns-cnn14, clap) need `embedding_weights`. `classifier` feeds KL and IS: `micro-style-cnn`
    trains on `classifier_world` (a folder with manifest.jsonl; default: the reference set's manifest),
    `panns-cnn14` needs `classifier_weights`. `clap_weights` (a local transformers CLAP folder) and
    `imagebind_weights` (a local checkpoint) switch on the text–audio and video–audio scores. Each setting that
    changes a number is written into that metric's name (`fad[mel-stats]`, `bhs[0.2s]`, `tempo_acc[8%]`).
    """

    RANGES: ClassVar[dict[str, Range]] = {
        "k": Range(1),
        "bootstrap_resamples": Range(1),
        "confidence": Range(0, 1, False, False),
        "tb_tolerance_s": Range(0, low_inclusive=False),
        "tempo_tolerance": Range(0, 1, False, False),
        "cue_tolerance_s": Range(0, low_inclusive=False),
    }

    embedding: str = "mel-stats"
    embedding_weights: str | None = None
    classifier: str = "micro-style-cnn"
    classifier_weights: str | None = None
    classifier_world: str | None = None
    k: int = 5  # nearest neighbours for density / coverage
    clap_weights: str | None = None
    imagebind_weights: str | None = None
    # BHS/BCS bin sizes: LORIS's 1 s saturates at the suite's clip lengths, so 0.2 s is reported beside it
    beat_bins_s: list[float] = field(default_factory=lambda: [1.0, 0.2])
    tb_tolerance_s: float = 0.1  # transition–beat match window (±)
    tempo_tolerance: float = 0.08  # relative tempo error counted as correct (MIREX: 8%)
    cue_tolerance_s: float = 0.05  # onset-to-beat / onset-to-cut window (±) of the ground-truth cue metrics
    bootstrap_resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.beat_bins_s or any(float(b) <= 0 for b in self.beat_bins_s):
            raise UserError(f"evaluation.beat_bins_s: expected positive bin sizes in seconds, got {self.beat_bins_s}")
