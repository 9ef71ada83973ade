"""The `evaluation` section: which models the metrics use, how confidence intervals are drawn, and what text
generation for evaluation gets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from toolkit.metrics.options import SuiteOptions


class PromptSource(str, Enum):
    """What text a trained run is given when it generates a split for evaluation: each clip's own prompt, or
    none (an empty prompt, so only the video can carry the clip's style and rhythm). An enum, so that a config
    naming anything else fails when it loads, with the key named, not after training."""

    prompt = "prompt"
    none = "none"

    def __str__(self) -> str:  # "none", not "PromptSource.none", in logged params (enum.StrEnum needs 3.11)
        return self.value


@dataclass
class EvalConfig(SuiteOptions):
    """Metric settings for `toolkit evaluate` and for evaluating trained runs: the metrics suite's own options
    (`toolkit.metrics.options.SuiteOptions`: embedding, classifier, bootstrap, tolerances, and their `RANGES`)
    plus `prompts` (`prompt` | `none`): what text generation for evaluation gets — each clip's prompt, or an
    empty one (to measure what the video conditioners carry alone).
    """

    prompts: PromptSource = PromptSource.prompt

    def __post_init__(self) -> None:  # direct construction (not through OmegaConf) is checked too
        super().__post_init__()
        self.prompts = prompt_source(self.prompts)


def prompt_source(value: object) -> PromptSource:
    """`value` as a `PromptSource`; anything else raises `UserError` naming `evaluation.prompts`."""
    from toolkit.errors import UserError

    try:
        return PromptSource(value)
    except ValueError:
        choices = " or ".join(repr(p.value) for p in PromptSource)
        raise UserError(f"evaluation.prompts: must be {choices}, got {value!r}") from None
