"""Metrics by name: each is a `Metric` class registered with `@register_metric("fad")`.

A metric declares what it needs (`NEEDS`), whether it scores each clip or the set (`scope`), its direction,
and its naming conventions for the suite's options (`conventions`: `fad` under the `mel-stats` embedding is
`fad[mel-stats]`; `bhs` gives one name per bin size). `toolkit.metrics.suite` computes every registered metric
whose needs are met; `toolkit list metrics` prints them; a plugin registers its own through the entry-point
group `v2m_toolkit.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from toolkit.errors import UserError
from toolkit.metrics import names
from toolkit.metrics.bootstrap import bootstrap_mean_ci
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.wilson import wilson_interval_of
from toolkit.utils.registry import Registry

MINIMIZE, MAXIMIZE = "minimize", "maximize"
CLIP, SET = "clip", "set"

# What a metric can need; the evaluation context says which of them it has (`EvalContext.missing`).
NEEDS = {
    "generated": "the generated audio",
    "reference": "the reference audio (the clip's own music)",
    "targets": "tempo/key targets (prompt attributes, the manifest, else the reference audio)",
    "cuts": "video cuts (--videos DIR, the shots feature cache, or a manifest with 'cuts')",
    "truth": "the world's ground truth (a manifest with beats, cuts and styles)",
    "embedding": "an audio embedding model (evaluation.embedding)",
    "classifier": "an audio classifier (evaluation.classifier; micro-style-cnn trains on a world with styles)",
    "timings": "generation timings (timings.jsonl beside the generated clips)",
    "video": "the videos (--videos DIR)",
    "text": "the prompts (prompts.jsonl beside the reference clips)",
    "model": "the model that generated the music (evaluate --run, or a sweep trial)",
    "clap": "local CLAP weights (evaluation.clap_weights, --clap-weights)",
    "imagebind": "local ImageBind weights (evaluation.imagebind_weights, --imagebind-weights)",
}


@dataclass(frozen=True)
class SetScore:
    """A per-set metric's value and interval, with what the interval is (`interval`) and any extra numbers."""

    value: float
    low: float
    high: float
    interval: str
    extra: dict[str, Any] = field(default_factory=dict)


class Metric:
    """Base class of registered metrics.

    Subclasses set `needs`, `scope` (`clip`: `compute` returns {clip id: value}, NaN for a clip it cannot score,
    and the suite averages with an interval over clips; `set`: `compute` returns a `SetScore`), `direction`,
    `binary` (per-clip 0/1 values: Wilson interval), and override `conventions` when the number depends on a
    setting a reader must know.
    """

    name: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ("generated",)
    scope: ClassVar[str] = CLIP
    direction: ClassVar[str] = MAXIMIZE
    binary: ClassVar[bool] = False

    def conventions(self, options: SuiteOptions) -> tuple[str, ...]:
        """One convention per number this metric reports ("" for a name with no brackets)."""
        return ("",)

    def compute(self, ctx: Any, convention: str) -> dict[str, float] | SetScore:
        raise NotImplementedError

    def names(self, options: SuiteOptions) -> list[str]:
        """The display names this metric reports under `options`, default convention first."""
        return [names.display(self.name, c) for c in self.conventions(options)]


def _check(name: str, obj: Any) -> None:
    if not (isinstance(obj, type) and issubclass(obj, Metric)):
        raise TypeError(f"metric {name!r} must be a subclass of toolkit.metrics.registry.Metric, got {obj!r}")
    if "." in name or "[" in name:
        raise TypeError(f"metric {name!r}: a base name holds no '.' or '[' (conventions go in brackets)")
    unknown = [n for n in obj.needs if n not in NEEDS]
    if unknown:
        raise TypeError(f"metric {name!r} needs {unknown}, which no evaluation provides (known: {sorted(NEEDS)})")
    if obj.scope not in (CLIP, SET) or obj.direction not in (MINIMIZE, MAXIMIZE):
        raise TypeError(f"metric {name!r}: scope must be clip or set, direction minimize or maximize")


# Built-ins are the Metric classes of this package's modules (`toolkit/metrics/catalog/`), imported on first lookup.
METRICS: Registry[type[Metric]] = Registry("metric", "metrics", __package__, _check)
register_metric = METRICS.register
available_metrics = METRICS.names
get_metric = METRICS.get
describe_metric = METRICS.describe


def registered_base(name: str) -> str | None:
    """The registered metric a name (display, stored or old) belongs to, None for any other name."""
    try:
        base, _ = names.parse(name)
    except UserError:
        return None
    base = names.RENAMED.get(base, base)
    return base if base in METRICS else None


def metric_direction(name: str) -> str | None:
    """The direction of a metric name (display, stored or alias), None when no registered metric has its base."""
    base = registered_base(name)
    return METRICS.get(base).direction if base else None


def canonical(name: str, options: SuiteOptions | None = None) -> str:
    """The display name a sweep or report should use for `name`.

    A bracketed or stored name of a registered metric is checked and shown (`fad.mel-stats` → `fad[mel-stats]`);
    a plain base or an old name (`fad`, `key_acc_loose`) is the metric at its default convention under
    `options` (`fad[mel-stats]` with the default embedding); any other name (`val_loss`, `params_trainable`,
    a trial's own) is returned as given."""
    base = registered_base(name)
    if base is None:
        return name
    convention = names.parse(name)[1]
    metric = METRICS.get(base)()
    known = metric.names(options or SuiteOptions())
    if not convention:
        return known[0]
    shown = names.display(base, convention)
    if shown not in known and metric.conventions(options or SuiteOptions()) != ("",):
        # Another setting than the experiment's (a finer bin, another embedding) is still that metric's name.
        return shown
    if shown not in known:
        raise UserError(f"metric {base!r} takes no convention in brackets, got {name!r}")
    return shown


def is_binary(name: str) -> bool:
    """True when `name` is a metric with 0/1 values per clip (its interval is Wilson's)."""
    base = registered_base(name)
    return base is not None and METRICS.get(base).binary


def per_clip_interval(values: np.ndarray, binary: bool, options: SuiteOptions) -> tuple[float, float, str]:
    """(low, high, what) for the mean of per-clip values: Wilson for 0/1 rates, else a percentile bootstrap."""
    level = f"{options.confidence:.0%}"
    if binary:
        low, high = wilson_interval_of(values, options.confidence)
        return low, high, f"{level} Wilson interval over {values.size} clips"
    low, high = bootstrap_mean_ci(values, options.confidence, options.bootstrap_resamples, options.seed)
    return low, high, f"{level} percentile bootstrap over {values.size} clips ({options.bootstrap_resamples} resamples)"
