"""Distribution metrics over embeddings: FAD, FAD-∞, density and coverage (named by their embedding)."""

from __future__ import annotations

import warnings

import numpy as np

from toolkit.metrics import fad, prdc
from toolkit.metrics.bootstrap import bootstrap_sets_ci
from toolkit.metrics.context import EvalContext, Unavailable
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.registry import MAXIMIZE, MINIMIZE, SET, Metric, SetScore, register_metric


def _resamples(options: SuiteOptions) -> str:
    return f"{options.confidence:.0%} {{}} over clips, both sets resampled ({options.bootstrap_resamples} resamples)"


class _Frechet(Metric):
    """A Fréchet distance over the embedding windows of both sides, named by the embedding."""

    needs = ("generated", "reference", "embedding")
    scope, direction = SET, MINIMIZE

    def conventions(self, options: SuiteOptions) -> tuple[str, ...]:
        return (options.embedding,)


@register_metric("fad", "Fréchet audio distance between reference and generated embedding windows")
class Fad(_Frechet):
    """FAD on all windows, with a basic (pivotal) bootstrap interval for the population FD (`fad.fad_ci`)."""

    def compute(self, ctx: EvalContext, convention: str) -> SetScore:
        ref, gen = ctx.windows
        o = ctx.options
        try:
            value = fad.fad(np.concatenate(ref), np.concatenate(gen))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                low, high = fad.fad_ci(ref, gen, o.confidence, o.bootstrap_resamples, o.seed, paired=True)
        except ValueError as err:
            raise Unavailable(str(err)) from None
        what = _resamples(o).format("basic bootstrap for the population FD")
        if caught:  # fewer windows than 2 x dims
            what += "; fewer windows than 2 x dims: the interval describes the estimator's spread, not the truth"
        windows = sum(w.shape[0] for w in gen)
        return SetScore(value, low, high, what, {"windows": windows, "dims": int(gen[0].shape[1])})


@register_metric("fad_inf", "FAD-∞: FAD extrapolated over subset sizes to infinitely many samples")
class FadInf(_Frechet):
    """FAD-∞ (Chong & Forsyth; fadtk's `score_inf`), both sets subsampled together; no interval is drawn."""

    def compute(self, ctx: EvalContext, convention: str) -> SetScore:
        ref, gen = ctx.windows
        try:
            fit = fad.fad_inf(np.concatenate(ref), np.concatenate(gen), scale_reference=True, seed=ctx.options.seed)
        except ValueError as err:
            raise Unavailable(str(err)) from None
        nan, windows, dims = float("nan"), fit.sizes.max(), ref[0].shape[1]
        what = f"no interval (fit of FAD against 1/N, R² {fit.r2:.2f})"
        if windows < 2 * dims:
            what += "; fewer windows than 2 x dims: the extrapolation is not reliable"
        return SetScore(fit.score, nan, nan, what, {"slope": fit.slope, "r2": fit.r2})


class _Neighbours(Metric):
    """Density or coverage (Naeem et al. 2020) of per-clip embeddings, k nearest neighbours."""

    needs = ("generated", "reference", "embedding")
    scope, direction = SET, MAXIMIZE
    upper = float("inf")

    def conventions(self, options: SuiteOptions) -> tuple[str, ...]:
        return (f"{options.embedding},k{options.k}",)

    def compute(self, ctx: EvalContext, convention: str) -> SetScore:
        o = ctx.options
        if len(ctx.pairs) <= o.k:
            raise Unavailable(f"need more than k={o.k} pairs, got {len(ctx.pairs)}")
        ref, gen = ctx.clip_embeddings
        value = prdc.density_coverage(ref, gen, o.k)[self.name]
        resampled = prdc.DensityCoverageResampler(ref, gen, o.k)
        low, high = bootstrap_sets_ci([len(ref), len(gen)], lambda r, g: resampled(r, g)[self.name], o.confidence,
                                      o.bootstrap_resamples, o.seed, (0.0, self.upper), True)
        return SetScore(value, low, high, _resamples(o).format("percentile bootstrap"))


@register_metric("density", "how densely generated clips fill the reference manifold (k-NN balls)")
class Density(_Neighbours):
    """Density: mean count of reference k-NN balls holding each generated clip, over k."""


@register_metric("coverage", "share of reference clips with a generated clip in their k-NN ball")
class Coverage(_Neighbours):
    """Coverage: share of reference clips whose k-NN ball holds a generated clip."""

    upper = 1.0
