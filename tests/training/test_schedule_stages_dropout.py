"""Warmup + cosine, stage planning from fractions, and condition dropout rates."""

from __future__ import annotations

import math

import pytest
import torch
from omegaconf import OmegaConf

from toolkit.config.stages import plan_stages, stage_at
from toolkit.errors import UserError
from toolkit.training.dropout import drop_conditions, drop_rows
from toolkit.training.schedule import warmup_cosine


def test_warmup_then_cosine_to_the_floor():
    factors = [warmup_cosine(s, 10, 4, 0.1) for s in range(10)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0]
    assert factors[4] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 6)))
    assert factors[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(factors[3:], factors[4:], strict=False))
    assert warmup_cosine(0, 1, 5, 0.0) == 1.0  # a one-step span never warms up to nothing


def _stages(*spec):
    return [OmegaConf.create({"name": n, "conditioners": c, "fraction": f}) for n, c, f in spec]


def test_stage_spans_follow_fractions_and_cover_every_step():
    spec = _stages(("sem", ["semantic"], 0.3), ("rhy", ["rhythm"], 0.7))
    stages = plan_stages(spec, 10, ["semantic", "rhythm"])
    assert [(s.name, s.start, s.end, s.conditioners) for s in stages] == [
        ("sem", 0, 3, ("semantic",)), ("rhy", 3, 10, ("rhythm",))]
    assert [stage_at(stages, s).name for s in (0, 2, 3, 9, 12)] == ["sem", "sem", "rhy", "rhy", "rhy"]
    (only,) = plan_stages([], 5, ["lora"])
    assert (only.start, only.end, only.conditioners) == (0, 5, None)


@pytest.mark.parametrize(
    "spec, message",
    [
        ((("a", ["semantic"], 0.5), ("b", ["rhythm"], 0.4)), "sum to 1"),
        ((("a", ["semantic"], 1.0),), None),
        ((("a", ["sematic"], 1.0),), "subset"),
        ((("a", [], 1.0),), "non-empty"),
    ],
)
def test_bad_stage_configs_name_the_problem(spec, message):
    if message is None:
        assert plan_stages(_stages(*spec), 4, ["semantic", "rhythm"])
        return
    with pytest.raises(UserError, match=message):
        plan_stages(_stages(*spec), 4, ["semantic", "rhythm"])


def test_drop_rows_respects_the_rate():
    gen = torch.Generator().manual_seed(0)
    for rate in (0.0, 0.1, 0.5, 1.0):
        dropped = drop_rows(20000, rate, gen).float().mean().item()
        assert abs(dropped - rate) < 0.01
    with pytest.raises(ValueError):
        drop_rows(3, 1.5, gen)


def test_drop_conditions_empties_prompts_and_masks_video_independently():
    gen = torch.Generator().manual_seed(0)
    n = 4000
    features = {"clip": {"global": torch.ones(n, 3, 2)}, "mask": torch.ones(n, 3)}
    prompts, dropped = drop_conditions(["p"] * n, features, 0.3, 0.2, gen)
    no_text = torch.tensor([p == "" for p in prompts])
    no_video = dropped.present == 0
    assert abs(no_text.float().mean() - 0.3) < 0.03 and abs(no_video.float().mean() - 0.2) < 0.03
    assert abs((no_text & no_video).float().mean() - 0.06) < 0.02  # independent draws: both ≈ 0.3 · 0.2
    assert torch.equal(dropped["clip.global"], features["clip"]["global"])  # features kept, only masked


def test_training_batches_drop_text_at_the_configured_rate(backbone):
    from .helpers import make_loop

    loop = make_loop(backbone, text_dropout=0.25, video_dropout=0.0, batch_size=4)
    prompts = [p for step in range(300) for p in loop.batch_for(step).prompts]
    assert abs(sum(p == "" for p in prompts) / len(prompts) - 0.25) < 0.04
    masks = loop.batch_for(0).features.present
    assert masks.all()  # video dropout 0: every row keeps its video
