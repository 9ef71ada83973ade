"""RITE starts as the identity and Loc-DiT's conditioning starts at zero, as designed."""

from __future__ import annotations

import torch

from toolkit.heads.plan_refine.locdit import LocDiT
from toolkit.heads.plan_refine.rite import RITE


def _perturb(module: torch.nn.Module, scale: float = 0.5) -> None:
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * scale)


def test_rite_is_the_identity_at_init_and_not_after_training():
    torch.manual_seed(0)
    rite = RITE(dim=16, layers=2, heads=4)
    plan = torch.randn(3, 8, 16)
    assert torch.equal(rite(plan), plan)
    _perturb(rite.out)
    assert not torch.allclose(rite(plan), plan)
    assert torch.equal(RITE(16, layers=0)(plan), plan)


def _inputs(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 6, 10, generator=gen)
    plan = torch.randn(2, 6, 12, generator=gen)
    history = torch.randn(2, 6, 10, generator=gen)
    return x, plan, history, torch.tensor([True, False])


def test_locdit_predicts_zero_velocity_at_init():
    torch.manual_seed(0)
    dit = LocDiT(latent_dim=10, plan_dim=12, width=32, layers=2, heads=4)
    x, plan, history, has = _inputs()
    assert torch.equal(dit(x, torch.tensor([0.1, 0.9]), plan, history, has), torch.zeros_like(x))


def test_locdit_plan_and_timestep_conditioning_start_at_zero():
    """With a non-zero output layer, the velocity at init still ignores the plan (zero projection) and the
    timestep (zero FiLM modulation); once those layers move, both matter."""
    torch.manual_seed(0)
    dit = LocDiT(latent_dim=10, plan_dim=12, width=32, layers=2, heads=4)
    _perturb(dit.out)
    x, plan, history, has = _inputs()
    t = torch.tensor([0.2, 0.7])
    base = dit(x, t, plan, history, has)
    assert torch.equal(dit(x, t, torch.randn_like(plan), history, has), base)
    assert torch.equal(dit(x, torch.tensor([0.9, 0.0]), plan, history, has), base)
    assert not torch.allclose(dit(torch.randn_like(x), t, plan, history, has), base)  # the input matters
    assert not torch.allclose(dit(x, t, plan, torch.randn_like(history), has), base)  # and the history
    _perturb(dit.plan_in)
    _perturb(dit.modulation)
    moved = dit(x, t, plan, history, has)
    assert not torch.allclose(dit(x, t, torch.randn_like(plan), history, has), moved)
    assert not torch.allclose(dit(x, torch.tensor([0.9, 0.0]), plan, history, has), moved)


def test_rows_without_history_ignore_the_history_tensor():
    torch.manual_seed(0)
    dit = LocDiT(latent_dim=10, plan_dim=12, width=32, layers=1, heads=4)
    _perturb(dit)
    x, plan, history, _ = _inputs()
    none = torch.tensor([False, False])
    t = torch.tensor([0.5, 0.5])
    assert torch.equal(dit(x, t, plan, history, none), dit(x, t, plan, torch.randn_like(history), none))


def test_data_prediction_derives_the_straight_path_velocity():
    """An x-predicting Loc-DiT that predicts the clean latents exactly yields the true velocity (x1 - x_t)/(1-t):
    at init it predicts zeros, so the velocity points from x_t straight to the origin."""
    torch.manual_seed(0)
    dit = LocDiT(latent_dim=10, plan_dim=12, width=32, layers=1, heads=4, prediction="data")
    x, plan, history, has = _inputs()
    t = torch.tensor([0.25, 0.5])
    assert torch.allclose(dit(x, t, plan, history, has), -x / (1 - t).view(-1, 1, 1))
    near_end = dit(x, torch.tensor([1.0, 0.99]), plan, history, has)
    assert torch.isfinite(near_end).all() and torch.allclose(near_end, -x / 0.05)  # 1/(1-t) is bounded
