"""The planner reads the token history one patch behind: causal per patch, and the same states whether computed
in one teacher-forced pass (training) or patch by patch with the KV cache (generation)."""

from __future__ import annotations

import torch

from toolkit.heads.plan_refine.planner import planner_hidden, shifted_input, start_patch

from .helpers import attach_head, perturb, random_batch


def test_a_patch_plan_never_sees_its_own_or_later_frames(backbone):
    attached = attach_head(backbone, patch_size=4)
    perturb(attached)  # LoRA active: the adapted decoder is what plans
    codes, _, memory, mask = random_batch(backbone, frames=16)
    hidden, _ = planner_hidden(backbone, shifted_input(backbone, codes, 4), memory, mask)
    changed = codes.clone()
    changed[:, :, 8:] = (changed[:, :, 8:] + 1) % backbone.codebook_size  # patches 2 and 3 change
    again, _ = planner_hidden(backbone, shifted_input(backbone, changed, 4), memory, mask)
    assert torch.equal(hidden[:, :12], again[:, :12])  # patches 0-2 are planned from patches before them
    assert not torch.allclose(hidden[:, 12:], again[:, 12:])  # patch 3 reads patch 2


def test_incremental_planning_equals_the_teacher_forced_pass(backbone):
    # float64: with perturbed LoRA, float32 rounding alone reaches ~2e-5; a misplaced step is off by ~1.
    backbone.model.double()
    attached = attach_head(backbone, patch_size=4)
    perturb(attached)
    codes, _, memory, mask = random_batch(backbone, frames=12)
    memory = memory.double()
    full, _ = planner_hidden(backbone, shifted_input(backbone, codes, 4), memory, mask)
    parts, cache = planner_hidden(backbone, start_patch(backbone, 2, 4), memory, mask, use_cache=True)
    for start in (0, 4):
        more, cache = planner_hidden(backbone, codes[:, :, start : start + 4], memory, mask, cache=cache)
        parts = torch.cat([parts, more], dim=1)
    assert torch.allclose(parts[:, :12], full, rtol=0, atol=1e-10)
