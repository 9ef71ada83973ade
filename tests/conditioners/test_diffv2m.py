"""Diff-V2M's conditioner: exact at init, gradients where they belong, the real→predicted schedule, no music at
generation, and a predictor that learns."""

from __future__ import annotations

import pytest
import torch

from toolkit.conditioners.diffv2m.schedule import real_rhythm_probability
from toolkit.errors import UserError
from toolkit.features.batch import FeatureBatch
from toolkit.features.kinds import Feature
from toolkit.model.attach import attach

from .conftest import CLIP_DIM, FPS, perturb

EMOTION_DIM = 7
KINDS = {"shots.index": Feature("frames", categorical=True), "lowres_rhythm.odf": Feature("series", rate=FPS),
         "lowres_rhythm.mel": Feature("series", rate=FPS)}


def spec(**kwargs) -> dict:
    return {"name": "diffv2m", "clip_dim": CLIP_DIM, "emotion_dim": EMOTION_DIM, "rate": FPS,
            "predictor_width": 16, "predictor_layers": 1, "predictor_heads": 2, **kwargs}


def features(seed: int = 1, frames: int = 11, odf_seed: int | None = None) -> FeatureBatch:
    gen = torch.Generator().manual_seed(seed)
    clips = []
    for row in range(2):
        n = frames if row == 0 else frames - 3  # the second clip's video is shorter
        odf_gen = torch.Generator().manual_seed(odf_seed if odf_seed is not None else seed + 10 + row)
        clips.append({
            "clip.global": torch.randn(n, CLIP_DIM, generator=gen),
            "colour_mood.features": torch.rand(n, EMOTION_DIM, generator=gen),
            "shots.index": torch.tensor([0] * (n // 2) + [1] * (n - n // 2)),
            "interframe.distance": torch.rand(n, generator=gen),
            "lowres_rhythm.odf": torch.rand(n, generator=odf_gen) * 3,
            "lowres_rhythm.mel": torch.randn(n, 4, generator=odf_gen),
        })
    return FeatureBatch.collate(clips, list(clips[0]), KINDS)


def run(backbone, attached, batch, feats, training=False):
    with attached.conditioned(feats, training=training):
        return backbone.decoder_forward(batch["codes"], batch["memory"], batch["mask"]).logits


@pytest.mark.parametrize("fusion", ["average", "gate"])
def test_exact_at_init_for_every_fusion_mode(backbone, batch, fusion):
    reference = backbone.decoder_forward(batch["codes"], batch["memory"], batch["mask"]).logits
    attached = attach(backbone, [spec(fusion=fusion)], fps=FPS)
    with torch.no_grad():
        assert torch.equal(run(backbone, attached, batch, features()), reference)
        assert torch.equal(run(backbone, attached, batch, features(), training=True), reference)


def test_the_predictor_learns_from_its_loss_alone_and_the_branches_from_the_decoder(backbone, batch):
    attached = attach(backbone, [spec()], fps=FPS)
    conditioner = attached.conditioners["diffv2m"]
    perturb(conditioner.blocks)  # open the gates, so the branches have a gradient to receive
    with attached.conditioned(features(), training=True):
        out = backbone.decoder_forward(batch["codes"], batch["memory"], batch["mask"])
        aux = conditioner.auxiliary_losses()["rhythm_mse"]
    groups = conditioner.parameter_groups()
    out.loss.backward(retain_graph=True)
    assert all(p.grad is None or not p.grad.any() for p in groups["rhythm_predictor"])  # detached from it
    for branch in ("emotion", "semantic", "rhythm"):
        assert conditioner.blocks[0].attention[branch].gate.grad.abs() > 0, branch
    assert all(p.grad is None for p in backbone.model.parameters())  # the backbone stays frozen
    conditioner.zero_grad()
    aux.backward()
    assert any(p.grad is not None and p.grad.any() for p in groups["rhythm_predictor"])
    assert all(p.grad is None or not p.grad.any() for p in groups["attention"])


def test_the_predictor_loss_falls_on_a_tiny_batch(backbone):
    attached = attach(backbone, [spec()], fps=FPS)
    conditioner = attached.conditioners["diffv2m"]
    feats = features()
    optimiser = torch.optim.Adam(conditioner.parameter_groups()["rhythm_predictor"], lr=3e-3)
    losses = []
    for _ in range(80):
        with attached.conditioned(feats, training=True):
            loss = conditioner.auxiliary_losses()["rhythm_mse"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.3 * losses[0], losses[::10]


def test_the_schedule_moves_from_the_real_rhythm_to_the_predicted_one(backbone):
    assert [real_rhythm_probability(s, 90) for s in (0, 30, 45, 60, 89)] == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0])
    attached = attach(backbone, [spec()], fps=FPS)
    conditioner = attached.conditioners["diffv2m"]

    def rhythm_tokens(step: int, odf_seed: int) -> torch.Tensor:
        conditioner.set_progress(step, 90)
        with torch.no_grad(), attached.conditioned(features(odf_seed=odf_seed), training=True):
            return conditioner._prepared["rhythm"][0].clone()

    # Early, the tokens follow the soundtrack's rhythm; late, they come from the video alone.
    assert not torch.equal(rhythm_tokens(0, odf_seed=1), rhythm_tokens(0, odf_seed=2))
    assert torch.equal(rhythm_tokens(80, odf_seed=1), rhythm_tokens(80, odf_seed=2))


def test_no_music_reaches_generation(backbone, batch):
    """The same video with two soundtracks gives the same logits at generation, where the target is withheld."""
    attached = attach(backbone, [spec()], fps=FPS)
    perturb(attached.conditioners["diffv2m"])
    one, two = features(odf_seed=1), features(odf_seed=2)
    with torch.no_grad():
        assert torch.equal(run(backbone, attached, batch, one), run(backbone, attached, batch, two))
        assert not torch.equal(run(backbone, attached, batch, one, training=True),
                               run(backbone, attached, batch, two, training=True))


def test_the_mel_target_and_bad_settings(backbone, batch):
    attached = attach(backbone, [spec(rhythm="mel", rhythm_bins=4, layers=[0])], fps=FPS)
    assert attached.conditioners["diffv2m"].targets == ("lowres_rhythm.mel",)
    with torch.no_grad():
        run(backbone, attached, batch, features(), training=True)
    for bad, message in (({"rhythm": "chroma"}, "rhythm"), ({"fusion": "film"}, "fusion"),
                         ({"schedule": [0.8, 0.2]}, "schedule"), ({"emotion_input": "x.y"}, "emotion_input")):
        with pytest.raises(UserError, match=message):
            attach(backbone, [spec(**bad)], fps=FPS)
    wrong = attach(backbone, [spec(rhythm="mel", rhythm_bins=3)], fps=FPS)
    with pytest.raises(UserError, match="rhythm_bins"), torch.no_grad():
        run(backbone, wrong, batch, features(), training=True)
