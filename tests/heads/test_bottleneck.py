"""The plan bottleneck: FSQ levels from config, a quantised grid, and straight-through gradients."""

from __future__ import annotations

import pytest
import torch

from toolkit.errors import UserError
from toolkit.heads.plan_refine.bottleneck import PlanBottleneck, parse_levels


def test_levels_parse_from_config_strings_lists_and_off():
    assert parse_levels("8,5,5,5") == (8, 5, 5, 5)
    assert parse_levels([4, 4]) == (4, 4)
    assert parse_levels("off") is None and parse_levels(None) is None and parse_levels("OFF") is None
    assert parse_levels(False) is None and parse_levels("False") is None  # an unquoted YAML `off`
    for bad in ("8,x", "1,5", [0]):
        with pytest.raises(UserError, match="head.plan_refine.fsq_levels"):
            parse_levels(bad)


def test_fsq_output_lies_on_the_level_grid():
    torch.manual_seed(0)
    levels = (5, 3, 4)
    fsq = PlanBottleneck(hidden=16, plan_dim=8, levels=levels).fsq
    z = torch.randn(1, 500, len(levels)) * 3
    codes = fsq.quantize(z)  # the grid before the output projection
    for d, level in enumerate(levels):
        assert len(torch.unique(codes[..., d])) <= level
    _, indices = PlanBottleneck(16, 8, levels)(torch.randn(2, 7, 16))
    assert indices.shape == (2, 7) and int(indices.max()) < 5 * 3 * 4


def test_fsq_passes_gradients_straight_through_the_rounding():
    """d(quantised)/dz equals the derivative of the *unrounded* bound tanh(z + shift)·half_l / half_width: the
    rounding contributes nothing to the gradient (and does not zero it)."""
    levels = (8, 5, 5, 5)
    fsq = PlanBottleneck(hidden=4, plan_dim=4, levels=levels).fsq  # plan_dim == len(levels): no projections
    z = torch.randn(3, 10, 4, dtype=torch.float64, requires_grad=True)
    fsq.quantize(z).sum().backward()

    lv = torch.tensor(levels, dtype=torch.float64)
    half_l = (lv - 1) * (1 + 1e-3) / 2
    offset = torch.where(lv % 2 == 0, 0.5, 0.0)
    shift = torch.atanh(offset / half_l)
    expected = (1 - torch.tanh(z.detach() + shift) ** 2) * half_l / (lv // 2)
    assert torch.allclose(z.grad, expected)
    assert (z.grad.abs() > 0).all()


def test_off_is_a_continuous_bottleneck():
    torch.manual_seed(0)
    bottleneck = PlanBottleneck(hidden=6, plan_dim=3, levels=None)
    x = torch.randn(2, 5, 6)
    plan, indices = bottleneck(x)
    assert indices is None and bottleneck.codebook_size is None
    assert torch.equal(plan, bottleneck.project(x))
    assert PlanBottleneck(6, 3, (8, 5, 5, 5)).codebook_size == 1000
