"""The `evaluation` section: which models the metrics use and how confidence intervals are drawn."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from toolkit.config.ranges import Range


class PromptSource(str, Enum):
    """What text a trained run is given when it generates a split for evaluation: each clip's own prompt, or
    none (an empty prompt, so only the video can carry the clip's style and rhythm). An enum, so that a config
    naming anything else fails when it loads, with the key named, not after training."""

    prompt = "prompt"
    none = "none"

    def __str__(self) -> str:  # "none", not "PromptSource.none", in logged params (enum.StrEnum needs 3.11)
        return self.value


@dataclass
class EvalConfig:
    """Metric settings for `toolkit evaluate` and for evaluating trained runs.

    `embedding` feeds FAD and density/coverage; `mel-stats` is computed by the toolkit itself, the others
    (vggish, panns-cnn14, clap) need `embedding_weights`. `classifier` feeds KL and IS: `micro-style-cnn`
    trains on `classifier_world` (a folder with manifest.jsonl; default: the reference set's manifest),
    `panns-cnn14` needs `classifier_weights`. `prompts` (`prompt` | `none`): what text generation for
    evaluation gets — each clip's prompt, or an empty one (to measure what the video conditioners carry alone).
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
    tempo_tolerance: float = 0.1  # relative tempo error counted as correct
    bootstrap_resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    prompts: PromptSource = PromptSource.prompt

    def __post_init__(self) -> None:  # direct construction (not through OmegaConf) is checked too
        self.prompts = prompt_source(self.prompts)


def prompt_source(value: object) -> PromptSource:
    """`value` as a `PromptSource`; anything else raises `UserError` naming `evaluation.prompts`."""
    from toolkit.errors import UserError

    try:
        return PromptSource(value)
    except ValueError:
        choices = " or ".join(repr(p.value) for p in PromptSource)
        raise UserError(f"evaluation.prompts: must be {choices}, got {value!r}") from None
