"""Flow matching (rectified flow): data and noise are joined by straight lines `x_t = (1 - t)·noise + t·data`,
and the model learns their constant velocity `data - noise`. Sampling integrates that velocity from noise
(t = 0) to data (t = 1) with Euler steps; guidance mixes conditional and unconditional velocities."""

from __future__ import annotations

from collections.abc import Callable

import torch

Velocity = Callable[..., torch.Tensor]  # (x_t (N, ...), t (N,)[, Euler step index]) → velocity


def draw(fn: Callable, shape: tuple, generator: torch.Generator | None, like: torch.Tensor) -> torch.Tensor:
    """`fn(shape)` (torch.randn / torch.rand) from `generator` (on its device), as `like`'s dtype and device."""
    device = generator.device if generator is not None else like.device
    return fn(shape, generator=generator, device=device, dtype=like.dtype).to(like.device)


def flow_matching_loss(velocity: Velocity, data: torch.Tensor, generator: torch.Generator | None = None):
    """Mean squared error between `velocity(x_t, t)` and `data - noise`, at one uniform `t` per row."""
    noise = draw(torch.randn, data.shape, generator, data)
    t = draw(torch.rand, (data.shape[0],), generator, data)
    xt = torch.lerp(noise, data, t.view(-1, *([1] * (data.dim() - 1))))
    return torch.nn.functional.mse_loss(velocity(xt, t), data - noise)


@torch.no_grad()
def euler_sample(velocity: Velocity, noise: torch.Tensor, steps: int) -> torch.Tensor:
    """Integrate `dx/dt = velocity(x, t, i)` from `noise` at t=0 to t=1 in `steps` equal Euler steps (`i` is the
    step's index, so a model can look up what it precomputed for the schedule)."""
    if steps < 1:
        raise ValueError(f"Euler steps must be ≥ 1, got {steps}")
    x, dt = noise, 1.0 / steps
    for i in range(steps):
        t = torch.full((x.shape[0],), i * dt, device=x.device, dtype=x.dtype)
        x = x + dt * velocity(x, t, i)
    return x


def schedule_times(steps: int) -> torch.Tensor:
    """The flow times `(steps,)` at which `euler_sample` evaluates the velocity."""
    return torch.arange(steps, dtype=torch.float32) / steps


def guided(velocity: Velocity, rows: int, scale: float) -> Velocity:
    """Classifier-free guidance over a velocity whose conditions are stacked `[conditional; unconditional]`
    (`rows` each): `x` is evaluated on both halves and `v_u + scale·(v_c - v_u)` returned for `rows` rows."""

    def mixed(x: torch.Tensor, t: torch.Tensor, *step) -> torch.Tensor:
        both = velocity(torch.cat([x, x]), torch.cat([t, t]), *step)
        cond, uncond = both[:rows], both[rows:]
        return torch.lerp(uncond, cond, scale)

    return mixed
