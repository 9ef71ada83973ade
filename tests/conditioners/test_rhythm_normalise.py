"""The rhythm conditioner's `normalise` option: `log(1 + d / median)` of each clip's real frames."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from toolkit.conditioners.rhythm import median_log_scale
from toolkit.errors import UserError
from toolkit.model.attach import attach

from .conftest import FPS, logits, perturb

SPEC = {"name": "rhythm", "block_size": 2, "normalise": True}


def _scaled(batch, row: int, factor: float):
    scaled = copy.deepcopy(batch)
    scaled["features"]["interframe"]["distance"][row] *= factor
    return scaled


def test_known_answer_ignores_padding_and_empty_rows():
    curve = torch.tensor([[1.0, 2.0, 3.0, 4.0, 100.0, 50.0, 60.0], [0.5] * 7])
    mask = torch.tensor([[1.0, 1, 1, 1, 1, 0, 0], [0.0] * 7])
    out = median_log_scale(curve, mask)
    # median of the five real frames is 3; the padded 50 and 60 would make it 4
    expected = torch.log1p(curve[0] / 3.0)
    torch.testing.assert_close(out[0], expected)
    assert torch.isfinite(out[1]).all()
    static = median_log_scale(torch.zeros(1, 4), torch.ones(1, 4))
    assert torch.equal(static, torch.zeros(1, 4))  # a still clip: median 0 divides by the floor, not by 0


def test_normalised_rhythm_is_exact_at_init(backbone, batch):
    reference = logits(backbone, batch)
    attached = attach(backbone, [SPEC], fps=FPS)
    with torch.no_grad():
        assert torch.equal(logits(backbone, batch, attached), reference)


def test_normalised_signal_ignores_the_curve_scale_raw_does_not(backbone, batch):
    """A clip whose distances are all ten times larger (a busier video, another feature scale) looks the same
    once normalised; raw, the conditioner sees a different input."""
    louder = _scaled(batch, 0, 10.0)
    for normalise in (True, False):
        torch.manual_seed(0)
        attached = attach(backbone, [{**SPEC, "normalise": normalise}], fps=FPS)
        perturb(attached.conditioners["rhythm"], scale=0.3)
        with torch.no_grad():
            same = torch.allclose(logits(backbone, batch, attached), logits(backbone, louder, attached), atol=1e-5)
        attached.detach()
        assert same is normalise


def test_normalised_signal_ignores_padded_frames(backbone, batch):
    """Clip 1's video ends after 8 frames: what its padding holds must not move its median."""
    padded = copy.deepcopy(batch)
    padded["features"]["interframe"]["distance"][1, 8:] = 40.0
    torch.manual_seed(0)
    attached = attach(backbone, [SPEC], fps=FPS)
    perturb(attached.conditioners["rhythm"], scale=0.3)
    with torch.no_grad():
        torch.testing.assert_close(logits(backbone, padded, attached), logits(backbone, batch, attached))


def test_beats_stay_visible_next_to_a_cut():
    """The micro world at 24 fps: floor ~0.003, beat flashes ~0.02, a cut ~0.5. Raw, a beat is 4% of the cut;
    normalised it is about 40% of it, so an encoder at its usual scale can tell beats from the floor."""
    curve = torch.full((1, 48), 0.003)
    curve[0, 6::12] = 0.02
    curve[0, 30] = 0.5
    out = median_log_scale(curve, torch.ones(1, 48))[0]
    assert out[6] / out[30] == pytest.approx(math.log1p(0.02 / 0.003) / math.log1p(0.5 / 0.003))
    assert out[6] / out[30] > 0.35 and out[6] - out[0] > 1.0


def test_normalise_must_be_a_bool(backbone):
    with pytest.raises(UserError, match=r"conditioners\.rhythm\.normalise"):
        attach(backbone, [{**SPEC, "normalise": "yes"}], fps=FPS)
