"""Plan-and-refine sampling, patch by patch: the planner's states for the next P frames → plan (FSQ, RITE) →
Loc-DiT integrates the patch's latents from noise (Euler, guided) → the latents are quantised to codes → those
P frames go through the planner in one pass (KV cache) → the next patch. The last patch is sampled whole and
cut, so any length works. Guidance contrasts the conditional rows with null rows (no text, and no video when
the caller stacks null video rows, as for token sampling) through the planner and Loc-DiT alike.
"""

from __future__ import annotations

from typing import Any

import torch

from toolkit.backbone.text import stack_with_null
from toolkit.heads.plan_refine.flow import draw, euler_sample, guided, schedule_times
from toolkit.heads.plan_refine.locdit import PatchWhere
from toolkit.heads.plan_refine.planner import planner_hidden, start_patch


@torch.no_grad()
def sample_patches(
    head: Any,
    memory: torch.Tensor,
    mask: torch.Tensor,
    num_frames: int,
    *,
    guidance: float | None = 3.0,
    generator: torch.Generator | None = None,
    prompt_codes: torch.Tensor | None = None,
    prompt_latents: torch.Tensor | None = None,
    progress: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes `(B, K, num_frames)` and continuous latents `(B, C, num_frames)` from a `PlanRefine` head whose
    conditioners are already `conditioned` on the batch. `prompt_codes`/`prompt_latents` `(B, ·, L)` are a
    continuation prefix (the previous window's end): teacher-forced through the planner, and the history of
    the first new patch; the outputs start with them."""
    backbone, patch = head.backbone, head.patch_size
    batch, device = memory.shape[0], memory.device
    use_guidance = guidance is not None and guidance != 1.0
    if use_guidance:
        memory, mask = stack_with_null(memory, mask)
    rows = memory.shape[0]
    known = 0 if prompt_codes is None else prompt_codes.shape[-1]
    if known > num_frames:
        raise ValueError(f"prompt has {known} frames, more than the {num_frames} requested")
    feed = start_patch(backbone, batch, patch, device)
    codes = [] if prompt_codes is None else [prompt_codes.to(device)]
    frames = [] if prompt_latents is None else [head.normalise(prompt_latents.to(device))]
    if known:
        feed = torch.cat([feed, codes[0]], dim=-1)
    # position p's state plans frame p, and each pass ends exactly where the next patch starts: the next plan
    # always reads the last P states of the latest pass
    hidden, cache = planner_hidden(backbone, feed, memory, mask, use_cache=True)
    history = None
    if frames:
        history = frames[0][:, -patch:]
        history = torch.cat([history.new_zeros(batch, patch - history.shape[1], history.shape[2]), history], 1)
    # the timestep modulations of the whole Euler schedule, once: sampling is bound by per-call overhead
    per_time = head.dit.modulations(schedule_times(head.euler_steps).to(device))
    schedule = [[tuple(m[i : i + 1] for m in mods) for mods in per_time] for i in range(head.euler_steps)]
    starts = range(known, num_frames, patch)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="patches", unit="patch", leave=False)
    for start in starts:
        plan = head.plan(hidden[:, -patch:])
        past = history if history is not None else plan.new_zeros(batch, patch, backbone.latent_dim)
        has = torch.full((rows,), history is not None, device=device)
        past = past.repeat(rows // batch, 1, 1)

        rate = float(backbone.frame_rate)
        where = PatchWhere(torch.arange(rows, device=device), torch.full((rows,), start / rate, device=device),
                           patch / rate)
        condition = head.dit.condition(plan, past, has, where)

        def velocity(x: torch.Tensor, t: torch.Tensor, i: int, condition=condition) -> torch.Tensor:
            return head.dit.velocity(x, t, condition, schedule[i])

        step = guided(velocity, batch, float(guidance)) if use_guidance else velocity
        noise = draw(torch.randn, (batch, patch, backbone.latent_dim), generator, plan)
        latent = euler_sample(step, noise, head.euler_steps)
        new_codes = backbone.quantize_latents(head.denormalise(latent)).to(device)
        frames.append(latent)
        codes.append(new_codes)
        history = latent
        if start + patch < num_frames:  # the next patch's plan reads these frames
            hidden, cache = planner_hidden(backbone, new_codes, memory, mask, cache=cache)
    latents = head.denormalise(torch.cat(frames, dim=1)[:, :num_frames])
    return torch.cat(codes, dim=-1)[..., :num_frames], latents
