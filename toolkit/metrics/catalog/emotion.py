"""Does the generated music carry the clip's emotion? Mode against valence, density and loudness against arousal.

Diff-V2M conditions on the video's emotional tone; the micro world saves each clip's valence and arousal and
renders them audibly (mode and timbre for valence, note density and loudness for arousal), so these measure
whether an emotion branch moves the music without any emotion recogniser. On real data they read the same
fields from a manifest that has them, and are skipped (with the reason) where it does not.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from toolkit.metrics import rhythm
from toolkit.metrics.bootstrap import bootstrap_statistic_ci
from toolkit.metrics.context import EvalContext, Unavailable
from toolkit.metrics.registry import SET, Metric, SetScore, register_metric


def onset_density(ctx: EvalContext, index: int) -> float:
    """The generated clip's onsets (the suite's LORIS onsets) per second."""
    audio = ctx.audio(ctx.pairs[index].generated)
    return len(ctx.onsets[1][index]) / max(audio.size / rhythm.LORIS_SAMPLE_RATE, 1e-9)


def loudness_db(ctx: EvalContext, index: int) -> float:
    """The generated clip's RMS level in dB (full scale = 0)."""
    audio = ctx.audio(ctx.pairs[index].generated)
    return float(20 * np.log10(np.sqrt(np.mean(np.square(audio, dtype=np.float64))) + 1e-9))


@register_metric("mode_acc", "share of clips whose generated music's estimated mode is the one the clip's valence "
                             "implies (major for valence >= 0)")
class ModeAccuracy(Metric):
    """1 when the Krumhansl–Kessler mode of the generated music matches the clip's (from its valence, else its
    saved mode); clips with neither are not scored."""

    needs = ("generated", "truth")
    binary = True

    def conventions(self, options) -> tuple[str, ...]:
        return ("krumhansl",)

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        out = {}
        for index, pair in enumerate(ctx.pairs):
            record = ctx.notes.truth.get(pair.id, {})
            if "valence" in record:
                wanted = "major" if float(record["valence"]) >= 0 else "minor"
            elif "mode" in record:
                wanted = str(record["mode"])
            else:
                continue
            out[pair.id] = float(ctx.keys[1][index].mode == wanted)
        return out


MEASURES = {"density": onset_density, "loudness": loudness_db}


@register_metric("arousal_corr", "Spearman correlation over clips between the clip's arousal and the generated "
                                 "music's onset density or loudness")
class ArousalCorrelation(Metric):
    """Spearman's ρ between saved arousal and a measure of the generated music (`density`: the suite's onsets
    per second, `loudness`: RMS dB), with a percentile bootstrap interval over clips. 0 is no relation."""

    needs = ("generated", "truth")
    scope = SET

    def conventions(self, options) -> tuple[str, ...]:
        return tuple(MEASURES)

    def compute(self, ctx: EvalContext, convention: str) -> SetScore:
        measure = MEASURES[convention]
        arousal, values = [], []
        for index, pair in enumerate(ctx.pairs):
            record = ctx.notes.truth.get(pair.id, {})
            if "arousal" in record:
                arousal.append(float(record["arousal"]))
                values.append(measure(ctx, index))
        if len(arousal) < 3:
            raise Unavailable(f"needs at least 3 clips with a saved arousal, got {len(arousal)}")
        truth, measured = np.asarray(arousal), np.asarray(values)

        def rho(index: np.ndarray) -> float:  # NaN when a resample is constant: the bootstrap leaves it out
            return float(stats.spearmanr(truth[index], measured[index]).statistic)

        everything = np.arange(len(truth))
        if not np.isfinite(rho(everything)):
            raise Unavailable(f"the generated music's {convention} or the arousal is the same for every clip")
        o = ctx.options
        low, high = bootstrap_statistic_ci(len(truth), rho, o.confidence, o.bootstrap_resamples, o.seed, (-1, 1))
        what = f"{o.confidence:.0%} percentile bootstrap over clips ({o.bootstrap_resamples} resamples)"
        return SetScore(rho(everything), low, high, what, {"clips": len(truth)})
