"""A training stage may train one parameter group of a conditioner alone and then freeze it (VeM trains its
aligner first, then its adapter): `train.stages` names `<entry>.<group>`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from toolkit.conditioners.registry import CONDITIONERS
from toolkit.conditioners.rhythm import RhythmConditioner
from toolkit.config.stages import plan_stages
from toolkit.errors import UserError
from toolkit.model.attach import attach
from toolkit.training.data import ClipSet
from toolkit.training.loop import Loop

from .helpers import FPS, make_clips, train_cfg


class GroupedRhythm(RhythmConditioner):
    """The rhythm conditioner with its encoder and its zero-linear outputs as two groups."""

    def parameter_groups(self) -> dict[str, list[torch.nn.Parameter]]:
        return {"encoder": list(self.encoder.parameters()), "out": list(self.zero_linears.parameters())}


@pytest.fixture
def grouped():
    with CONDITIONERS.scoped():
        CONDITIONERS.register("test_grouped_rhythm")(GroupedRhythm)
        yield


def _loop(backbone, stages):
    cfg = train_cfg(steps=4, text_dropout=0.0, video_dropout=0.0)
    torch.manual_seed(0)
    attached = attach(backbone, [{"name": "test_grouped_rhythm", "block_size": 1}], fps=FPS)
    keys = attached.feature_keys
    clips = ClipSet(make_clips(4), backbone.frame_rate, FPS, cfg.crop_seconds, keys, backbone.max_frames)
    return Loop(attached, clips, None, cfg, plan_stages(stages, cfg.steps, attached.stage_names()), 0)


def _snapshot(params):
    return [p.detach().clone() for p in params]


def _moved(before, params):
    return any(not torch.equal(a, b) for a, b in zip(before, params, strict=True))


def test_a_stage_trains_only_the_group_it_names(backbone, grouped):
    stages = [SimpleNamespace(name="out", conditioners=["test_grouped_rhythm.out"], fraction=0.5),
              SimpleNamespace(name="encoder", conditioners=["test_grouped_rhythm.encoder"], fraction=0.5)]
    loop = _loop(backbone, stages)
    groups = loop.attached.conditioners["test_grouped_rhythm"].parameter_groups()
    encoder, out = _snapshot(groups["encoder"]), _snapshot(groups["out"])
    for step in range(2):
        loop.train_step(step)
    assert _moved(out, groups["out"]) and not _moved(encoder, groups["encoder"])
    out = _snapshot(groups["out"])
    for step in range(2, 4):
        loop.train_step(step)
    assert _moved(encoder, groups["encoder"]) and not _moved(out, groups["out"])


def test_an_unknown_group_is_refused(backbone, grouped):
    stages = [SimpleNamespace(name="x", conditioners=["test_grouped_rhythm.decoder"], fraction=1.0)]
    with pytest.raises(UserError, match="test_grouped_rhythm.decoder"):
        _loop(backbone, stages)
