"""Metrics over an audio classifier's class probabilities: KL, IS, and style accuracy against ground truth."""

from __future__ import annotations

import numpy as np

from toolkit.metrics import kl
from toolkit.metrics.bootstrap import bootstrap_statistic_ci
from toolkit.metrics.context import EvalContext, Unavailable
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.registry import MAXIMIZE, MINIMIZE, SET, Metric, SetScore, register_metric


class _Classified(Metric):
    needs = ("generated", "reference", "classifier")

    def conventions(self, options: SuiteOptions) -> tuple[str, ...]:
        return (options.classifier,)


@register_metric("kl", "KL divergence of classifier probabilities, reference → generated, per pair (audiocraft)")
class Kl(_Classified):
    """KL(p_ref ‖ p_gen) per pair, audiocraft's convention (1e-6 added to the generated side)."""

    direction = MINIMIZE

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        p_ref, p_gen = ctx.probabilities
        return dict(zip(ctx.ids, map(float, kl.pairwise_kl(p_ref, p_gen)), strict=True))


@register_metric("is", "inception score of the generated clips' classifier probabilities (one split)")
class InceptionScore(_Classified):
    """exp E[KL(p(y|x) ‖ p(y))] over the generated clips, one split (10 would cap IS at n/10 for tens of clips)."""

    needs = ("generated", "classifier")
    scope, direction = SET, MAXIMIZE

    def compute(self, ctx: EvalContext, convention: str) -> SetScore:
        _, p_gen = ctx.probabilities
        o = ctx.options
        low, high = bootstrap_statistic_ci(len(p_gen), lambda idx: kl.inception_score(p_gen[idx], splits=1),
                                           o.confidence, o.bootstrap_resamples, o.seed, (1.0, float(p_gen.shape[1])))
        return SetScore(kl.inception_score(p_gen, splits=1), low, high,
                        f"{o.confidence:.0%} percentile bootstrap over clips ({o.bootstrap_resamples} resamples)")


class _TrueStyle(_Classified):
    needs = ("generated", "classifier", "truth")

    def styles(self, ctx: EvalContext) -> tuple[np.ndarray, list[int | None]]:
        _, p_gen = ctx.probabilities
        classes = list(ctx.classifier.classes)
        truth = [ctx.notes.truth.get(i, {}).get("style") for i in ctx.ids]
        if not any(s in classes for s in truth):
            raise Unavailable("no clip's ground-truth style is one of the classifier's classes")
        return p_gen, [classes.index(s) if s in classes else None for s in truth]


@register_metric("style_acc", "share of generated clips the classifier assigns the clip's true style")
class StyleAccuracy(_TrueStyle):
    """1 when the classifier's top class on the generated clip is the clip's ground-truth style."""

    binary = True

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        p_gen, styles = self.styles(ctx)
        return {i: float(np.argmax(p) == s) for i, p, s in zip(ctx.ids, p_gen, styles, strict=True) if s is not None}


@register_metric("p_true", "the classifier's probability of the clip's true style on the generated clip")
class TrueStyleProbability(_TrueStyle):
    """The classifier's probability of the clip's ground-truth style on the generated clip."""

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        p_gen, styles = self.styles(ctx)
        return {i: float(p[s]) for i, p, s in zip(ctx.ids, p_gen, styles, strict=True) if s is not None}
