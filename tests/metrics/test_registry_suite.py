"""The suite computes every registered metric whose needs are met: built-ins declare what they need, a plugin
metric is computed like them, a missing need is a skip with its reason, 0/1 rates get Wilson intervals."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from toolkit.metrics import names
from toolkit.metrics.annotations import Annotations
from toolkit.metrics.context import Pair
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.registry import CLIP, METRICS, NEEDS, SET, Metric, SetScore
from toolkit.metrics.suite import evaluate_pairs, flat_metrics

from .metric_signals import SR, click_track


def test_every_built_in_declares_what_it_needs_and_how_it_is_named() -> None:
    options = SuiteOptions()
    assert {"fad", "fad_inf", "kl", "is", "bhs", "tb_iou", "tempo_acc", "key_score", "on_beat", "nll_gain",
            "clap_score", "imagebind_score"} <= set(METRICS.names())
    for base, cls in METRICS.items():
        metric = cls()
        assert set(metric.needs) <= set(NEEDS), base
        assert metric.scope in (CLIP, SET) and metric.direction in ("minimize", "maximize"), base
        for shown in metric.names(options):
            assert names.parse(shown)[0] == base, shown


def test_a_class_that_is_not_a_metric_is_refused() -> None:
    with METRICS.scoped(), pytest.raises(TypeError, match="must be a subclass"):
        METRICS.register("not_a_metric")(lambda a, b: 0.0)
    with METRICS.scoped(), pytest.raises(TypeError, match="needs"):
        METRICS.register("needs_nothing_known")(type("X", (Metric,), {"needs": ("telepathy",)}))


@pytest.fixture
def pairs(tmp_path):
    """Three pairs of click tracks: each generated clip is its reference (so every rate is 1)."""
    out = []
    for i, bpm in enumerate((90, 120, 150)):
        for side in ("ref", "gen"):
            (tmp_path / side).mkdir(exist_ok=True)
            sf.write(tmp_path / side / f"c{i}.wav", click_track(bpm, 3.0), SR)
        out.append(Pair(f"c{i}", tmp_path / "ref" / f"c{i}.wav", tmp_path / "gen" / f"c{i}.wav"))
    return out


def test_a_registered_plugin_metric_is_computed_with_its_convention(pairs) -> None:
    class Loudest(Metric):
        """Peak amplitude of the generated clip."""

        needs = ("generated",)

        def conventions(self, options):
            return ("peak",)

        def compute(self, ctx, convention):
            return {p.id: float(np.abs(ctx.audio(p.generated)).max()) for p in ctx.pairs}

    class Spread(Metric):
        """A set metric returns its own interval."""

        needs = ("generated",)
        scope = SET

        def compute(self, ctx, convention):
            return SetScore(1.5, 1.0, 2.0, "made up")

    with METRICS.scoped():
        METRICS.register("loudest")(Loudest)
        METRICS.register("spread")(Spread)
        result = evaluate_pairs(pairs, SuiteOptions(bootstrap_resamples=50), Annotations(), report=lambda m: None,
                                only=["loudest", "spread", "tempo_acc", "tb_iou"])
    loudest = result["metrics"]["loudest[peak]"]
    assert loudest["key"] == "loudest.peak" and loudest["n"] == 3 and loudest["scope"] == "clip"
    assert set(result["per_clip"]["loudest[peak]"]) == {"c0", "c1", "c2"}
    assert result["metrics"]["spread"] | {} == {"value": 1.5, "low": 1.0, "high": 2.0, "interval": "made up", "n": 3,
                                                "direction": "maximize", "scope": "set", "key": "spread"}
    # tempo against the reference audio's own tempo: all hit, and the Wilson interval keeps a width
    tempo = result["metrics"]["tempo_acc[8%]"]
    assert tempo["value"] == 1.0 and 0.3 < tempo["low"] < 0.5 and "Wilson" in tempo["interval"]
    assert result["skipped"] == {"tb_iou[0.1s]": f"needs {NEEDS['cuts']}"}  # no cuts were given
    flat = flat_metrics(result)
    assert flat["loudest.peak"] == loudest["value"] and flat["tempo_acc.8pct_lo"] == tempo["low"]
    assert "loudest" not in METRICS  # scoped: gone again


def test_a_binary_metric_that_all_clips_hit_is_not_given_a_zero_width_interval(pairs) -> None:
    result = evaluate_pairs(pairs, SuiteOptions(), Annotations(), report=lambda m: None, only=["key_acc"])
    entry = result["metrics"]["key_acc"]
    assert entry["value"] == 1.0 and entry["high"] == pytest.approx(1.0) and entry["low"] < 0.5
