"""Plan-and-refine sampling: exact lengths, continuation prompts, guidance rows, and `generate_music`."""

from __future__ import annotations

import pytest
import torch

from toolkit.generation import generate_music
from toolkit.heads.plan_refine.sampling import sample_patches

from .helpers import attach_head, perturb, random_batch


@pytest.mark.parametrize("frames", [13, 4, 3, 16])
def test_length_is_exact_whether_or_not_the_patch_divides_it(backbone, frames):
    attached = attach_head(backbone, patch_size=4)
    perturb(attached)
    _, _, memory, mask = random_batch(backbone)
    codes, latents = sample_patches(attached.head, memory, mask, frames, guidance=2.0,
                                    generator=torch.Generator().manual_seed(0))
    assert codes.shape == (2, backbone.num_codebooks, frames) and latents.shape == (2, backbone.latent_dim, frames)
    assert codes.dtype == torch.long and 0 <= int(codes.min()) and int(codes.max()) < backbone.codebook_size
    # the codes are the codec's quantisation of the sampled latents
    assert torch.equal(codes, backbone.quantize_latents(latents))


def test_sampling_is_seeded_and_guidance_changes_it(backbone):
    attached = attach_head(backbone, patch_size=4)
    perturb(attached)
    _, _, memory, mask = random_batch(backbone)

    def run(seed, guidance=3.0):
        return sample_patches(attached.head, memory, mask, 10, guidance=guidance,
                              generator=torch.Generator().manual_seed(seed))[1]

    assert torch.equal(run(0), run(0))
    assert not torch.allclose(run(0), run(1))
    assert not torch.allclose(run(0), run(0, guidance=1.0))


def test_a_continuation_starts_with_its_prompt(backbone):
    attached = attach_head(backbone, patch_size=4)
    perturb(attached)
    _, _, memory, mask = random_batch(backbone)
    gen = torch.Generator().manual_seed(0)
    codes, latents = sample_patches(attached.head, memory, mask, 6, generator=gen)
    more_codes, more_latents = sample_patches(attached.head, memory, mask, 15, generator=gen,
                                              prompt_codes=codes, prompt_latents=latents)
    assert more_codes.shape[-1] == 15 and torch.equal(more_codes[..., :6], codes)
    assert torch.allclose(more_latents[..., :6], latents, atol=1e-5)


def test_generate_music_uses_the_head_and_matches_the_duration(backbone):
    attached = attach_head(backbone, patch_size=4)
    perturb(attached)
    seconds = 0.137  # 13.7 frames at 100 Hz: neither a whole frame count nor a whole number of patches
    audio = generate_music(backbone, ["a"], seconds, attached=attached, seed=3, window_seconds=0.08,
                           overlap_seconds=0.02)  # several windows, each continued from the last
    assert audio.shape == (1, round(seconds * backbone.sample_rate))
    assert torch.isfinite(audio).all() and audio.abs().max() > 0
    again = generate_music(backbone, ["a"], seconds, attached=attached, seed=3, window_seconds=0.08,
                           overlap_seconds=0.02)
    assert torch.equal(audio, again)
    attached.detach()
    token_by_token = generate_music(backbone, ["a"], seconds, seed=3, window_seconds=0.08, overlap_seconds=0.02)
    assert not torch.allclose(token_by_token, audio)


def test_attaching_the_head_changes_no_logit_of_the_backbone(backbone):
    codes, _, memory, mask = random_batch(backbone)
    with torch.no_grad():
        before = backbone.decoder_forward(codes, memory, mask).logits
        attached = attach_head(backbone, lora=False)
        perturb(attached)  # even trained, the head adds no hook to the decoder
        after = backbone.decoder_forward(codes, memory, mask).logits
    assert torch.equal(before, after)


def test_windows_leave_room_for_the_planner_start_patch(backbone, monkeypatch):
    """The planner reads a start patch before a window's frames: windows for plan-and-refine are a patch shorter,
    so no planner pass runs past the positions the decoder was trained on (sinusoidal positions would silently
    extrapolate rather than fail)."""
    from toolkit.heads.plan_refine import sampling

    attached = attach_head(backbone, patch_size=10)  # 126-frame windows: 13 patches, 10 + 120 positions fed
    perturb(attached)
    reached = []
    original = sampling.planner_hidden

    def spy(bb, inputs, memory, mask, cache=None, use_cache=False):
        reached.append((cache.get_seq_length() if cache is not None else 0) + inputs.shape[-1])
        return original(bb, inputs, memory, mask, cache=cache, use_cache=use_cache)

    monkeypatch.setattr(sampling, "planner_hidden", spy)
    seconds = (backbone.max_frames + 30) / backbone.frame_rate  # needs two windows at any window length
    audio = generate_music(backbone, ["a"], seconds, attached=attached, window_seconds=100.0, guidance=1.5)
    assert audio.shape[-1] == round(seconds * backbone.sample_rate) and torch.isfinite(audio).all()
    assert max(reached) <= backbone.model.config.decoder.max_position_embeddings
