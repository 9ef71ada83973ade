"""Flow matching: known answers for the sampler and guidance, and the loss overfits a tiny batch."""

from __future__ import annotations

import torch

from toolkit.heads.plan_refine.flow import euler_sample, flow_matching_loss, guided
from toolkit.heads.plan_refine.locdit import LocDiT


def test_euler_integrates_a_known_velocity_field():
    """For v(x, t) = target - noise (the straight path's velocity) one or twenty steps land on the target."""
    noise = torch.randn(4, 3, 2)
    target = torch.randn(4, 3, 2)

    def straight(x, t, i):
        return target - noise

    for steps in (1, 20):
        assert torch.allclose(euler_sample(straight, noise, steps), target, atol=1e-5)

    def decay(x, t, i):  # dx/dt = -x: Euler with n steps gives (1 - 1/n)^n · x0
        return -x

    assert torch.allclose(euler_sample(decay, noise, 4), noise * 0.75**4)


def test_guidance_mixes_conditional_and_unconditional_rows():
    cond_shift = torch.tensor(2.0)

    def velocity(x, t):
        out = x.clone()
        out[: x.shape[0] // 2] += cond_shift  # conditional rows first
        return out

    x = torch.zeros(3, 1)
    mixed = guided(velocity, rows=3, scale=3.0)(x, torch.zeros(3))
    assert torch.allclose(mixed, torch.full((3, 1), 6.0))  # uncond 0 + 3·(2 - 0)
    assert torch.allclose(guided(velocity, 3, 1.0)(x, torch.zeros(3)), torch.full((3, 1), 2.0))


def test_flow_matching_loss_overfits_a_tiny_batch():
    """Four fixed patches with distinct plans: the loss falls well below its starting value (≈ 2 for unit data
    and noise), and sampling from the fitted model lands near each patch."""
    torch.manual_seed(0)
    data = torch.randn(4, 4, 6)
    plan = torch.eye(4)[:, None].expand(4, 4, 4) * 3
    history, has = torch.zeros(4, 4, 6), torch.zeros(4, dtype=torch.bool)
    dit = LocDiT(latent_dim=6, plan_dim=4, width=48, layers=2, heads=4)
    opt = torch.optim.Adam(dit.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)

    def velocity(x, t, *_):
        return dit(x, t, plan, history, has)

    losses = []
    for _ in range(400):
        loss = flow_matching_loss(velocity, data, gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    start, end = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    assert end < 0.25 * start, (start, end)
    sampled = euler_sample(velocity, torch.randn(4, 4, 6, generator=gen), 20)
    error = (sampled - data).pow(2).mean() / data.pow(2).mean()
    assert error < 0.2, float(error)
