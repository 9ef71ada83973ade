"""Diff-V2M inside plan-and-refine's Loc-DiT: every timestep-aware fusion mode is exact at init, each row reads
its own clip's tokens within its patch, `film_select` switches branch at τ = 0.2, and gradients reach the
blocks from the flow loss but never the rhythm predictor."""

from __future__ import annotations

import pytest
import torch

from toolkit.conditioners.diffv2m.diffusion import local_tokens
from toolkit.conditioners.diffv2m.fusion import TIMED_MODES, TimeFusion
from toolkit.errors import UserError
from toolkit.features.batch import FeatureBatch
from toolkit.features.kinds import Feature
from toolkit.heads.base import MusicCrop
from toolkit.heads.plan_refine.locdit import PatchWhere
from toolkit.model.attach import attach

from .helpers import perturb, random_batch

FPS, CLIP_DIM, EMOTION_DIM, WIDTH = 50.0, 12, 5, 32
HEAD = {"name": "plan_refine", "patch_size": 4, "plan_dim": 16, "dit_width": WIDTH, "dit_layers": 2,
        "rite_heads": 2, "euler_steps": 3}


def spec(fusion: str) -> dict:
    return {"name": "diffv2m", "route": "diffusion", "fusion": fusion, "clip_dim": CLIP_DIM, "emotion_dim": EMOTION_DIM,
            "rate": FPS, "fps": FPS, "dit_width": WIDTH, "dit_layers": 2, "dit_heads": 2, "predictor_width": 16,
            "predictor_layers": 1, "predictor_heads": 2}


def features(frames: int = 12) -> FeatureBatch:
    gen = torch.Generator().manual_seed(3)
    clips = [{"clip.global": torch.randn(frames, CLIP_DIM, generator=gen),
              "colour_mood.features": torch.rand(frames, EMOTION_DIM, generator=gen),
              "shots.index": torch.tensor([0] * 6 + [1] * (frames - 6)),
              "interframe.distance": torch.rand(frames, generator=gen),
              "lowres_rhythm.odf": torch.rand(frames, generator=gen)} for _ in range(2)]
    kinds = {"shots.index": Feature("frames", categorical=True), "lowres_rhythm.odf": Feature("series", rate=FPS)}
    return FeatureBatch.collate(clips, list(clips[0]), kinds)


def outputs(attached, backbone):
    codes, latents, memory, mask = random_batch(backbone)
    with torch.no_grad():
        torch.manual_seed(5)
        with attached.conditioned(features(), training=True):
            loss = attached.head.loss(attached, MusicCrop(codes, memory, mask, latents))
        with attached.conditioned(features()):
            sampled = attached.head.sample(attached, memory, mask, 8, guidance=None, prompt=None, progress=False,
                                           generator=torch.Generator().manual_seed(1))["latents"]
    return loss, sampled


@pytest.mark.parametrize("fusion", TIMED_MODES)
def test_every_timed_fusion_mode_is_exact_at_init(backbone, fusion):
    torch.manual_seed(0)
    bare = attach(backbone, [], head=HEAD)
    perturb(bare)
    state = bare.adapter_state_dict()
    reference = outputs(bare, backbone)
    bare.detach()
    torch.manual_seed(0)
    hooked = attach(backbone, [spec(fusion)], head=HEAD)
    own = {f"diffv2m.{k}": v for k, v in hooked.conditioners["diffv2m"].state_dict().items()}
    hooked.load_adapter_state_dict({**state, **own})
    loss, sampled = outputs(hooked, backbone)
    assert torch.equal(loss, reference[0]) and torch.equal(sampled, reference[1])
    perturb(hooked.conditioners["diffv2m"])  # trained, it changes the head's output
    assert not torch.equal(outputs(hooked, backbone)[1], reference[1])
    hooked.detach()


def test_rows_read_their_own_clip_within_their_patch():
    tokens = torch.arange(2 * 6, dtype=torch.float32).reshape(2, 6, 1)  # 2 clips, 6 tokens at 10 Hz
    prepared = {"rhythm": (tokens, torch.ones(2, 6), torch.ones(2))}
    times = {"rhythm": torch.arange(6) / 10.0}
    where = PatchWhere(torch.tensor([1, 0]), torch.tensor([0.0, 0.3]), 0.2)
    local = local_tokens(prepared, times, {"rhythm": 10.0}, where)["rhythm"]
    assert torch.equal(local[0][0], tokens[1]) and torch.equal(local[0][1], tokens[0])
    # row 0 spans [0, 0.2) s: tokens at 0, 0.1, 0.2 (half a step of margin); row 1 spans [0.3, 0.5)
    assert local[1].tolist() == [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]]


def test_film_select_takes_semantics_on_noisy_steps_and_rhythm_on_the_last():
    fusion = TimeFusion("film_select", 4)
    with torch.no_grad():
        for p in fusion.parameters():
            p.normal_()
    semantic, rhythm = torch.ones(2, 3, 4), -torch.ones(2, 3, 4)
    t = torch.tensor([0.5, 0.9])  # τ = 1 - t: 0.5 (noisy: semantic), 0.1 (late: rhythm)
    film = TimeFusion("film", 4)
    film.load_state_dict(fusion.state_dict())
    out = fusion(semantic, rhythm, t)
    emb = fusion._embed(t, semantic.dtype)
    term = {b: torch.sigmoid(fusion.gamma[b](emb))[:, None] * h + fusion.beta[b](emb)[:, None]
            for b, h in (("semantic", semantic), ("rhythm", rhythm))}
    assert torch.allclose(out[0], term["semantic"][0]) and torch.allclose(out[1], term["rhythm"][1])
    assert torch.allclose(film(semantic, rhythm, t), term["semantic"] + term["rhythm"])


def test_the_flow_loss_trains_the_blocks_and_never_the_predictor(backbone):
    attached = attach(backbone, [spec("film_select")], head=HEAD)
    conditioner = attached.conditioners["diffv2m"]
    perturb(attached)  # the head too: Loc-DiT's zero-initialised output would pass no gradient back
    codes, latents, memory, mask = random_batch(backbone)
    with attached.conditioned(features(), training=True):
        loss = attached.head.loss(attached, MusicCrop(codes, memory, mask, latents))
    loss.backward()
    groups = conditioner.parameter_groups()
    assert all(p.grad is None or not p.grad.any() for p in groups["rhythm_predictor"])
    for branch in ("emotion", "semantic", "rhythm"):
        assert conditioner.blocks[0].attention[branch].gate.grad.abs() > 0, branch


def test_a_head_without_matching_blocks_is_refused(backbone):
    with pytest.raises(UserError, match="Loc-DiT"):
        attach(backbone, [{**spec("film"), "dit_layers": 3}], head=HEAD)
    with pytest.raises(UserError, match="Loc-DiT"):
        attach(backbone, [spec("film")])  # the token head has no diffusion blocks
    with pytest.raises(UserError, match="fusion"):
        attach(backbone, [{**spec("film"), "route": "decoder"}])  # film needs a diffusion time
