"""Attributes against the target (prompt, manifest, else the reference music): tempo and key."""

from __future__ import annotations

from toolkit.metrics import key, names, rhythm
from toolkit.metrics.context import EvalContext
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.registry import Metric, register_metric


@register_metric("tempo_acc", "share of clips whose generated tempo is within the tolerance (MIREX 8%) of the target")
class TempoAccuracy(Metric):
    """1 when the generated tempo is within ±tolerance of the target tempo."""

    needs = ("generated", "targets")
    binary = True
    octave = False

    def conventions(self, options: SuiteOptions) -> tuple[str, ...]:
        return (names.percent(options.tempo_tolerance),)

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        target, generated = ctx.tempos
        tolerance = ctx.options.tempo_tolerance
        return {i: float(rhythm.tempo_matches(g, t, tolerance, octave=self.octave))
                for i, t, g in zip(ctx.ids, target, generated, strict=True)}


@register_metric("tempo_acc_octave", "tempo accuracy counting ×2, ×3, ×½ and ×⅓ of the target tempo as hits")
class TempoAccuracyOctave(TempoAccuracy):
    """Tempo accuracy with octave errors (×2, ×3, ×½, ×⅓) counted as hits."""

    octave = True


@register_metric("key_acc", "share of clips whose estimated key equals the target key")
class KeyAccuracy(Metric):
    """1 when the generated music's key (Krumhansl–Schmuckler) equals the target key exactly."""

    needs = ("generated", "targets")
    binary = True

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        target, generated = ctx.keys
        return {i: float(key.keys_match(g, t)) for i, t, g in zip(ctx.ids, target, generated, strict=True)}


@register_metric("key_score", "MIREX weighted key score: same 1, fifth 0.5, relative 0.3, parallel 0.2")
class KeyScore(Metric):
    """The MIREX weighted key score of the generated music's key against the target key."""

    needs = ("generated", "targets")

    def conventions(self, options: SuiteOptions) -> tuple[str, ...]:
        return ("mirex",)

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        target, generated = ctx.keys
        return {i: key.key_score(g, t, convention) for i, t, g in zip(ctx.ids, target, generated, strict=True)}
