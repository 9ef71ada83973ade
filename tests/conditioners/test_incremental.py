"""Incremental (KV-cached, token-by-token) decoding with adapters equals the full teacher-forced pass."""

from __future__ import annotations

import pytest
import torch

from toolkit.model.attach import attach

from .conftest import CLIP_DIM, FPS, perturb

SPECS = {
    "rhythm": [{"name": "rhythm", "block_size": 2, "context": 1}],
    "semantic": [{"name": "semantic", "feature_dim": CLIP_DIM, "gate_init": 0.5}],
    "text_encoder": [{"name": "semantic", "route": "text_encoder", "feature_dim": CLIP_DIM}],
    "all": [
        {"name": "rhythm", "block_size": 1},
        {"name": "semantic", "feature_dim": CLIP_DIM},
        {"name": "lora", "rank": 2},
    ],
}


def decoder_logits(backbone, inputs, memory, mask, **kwargs):
    out = backbone.model.decoder(
        input_ids=inputs.reshape(-1, inputs.shape[-1]),
        encoder_hidden_states=memory,
        encoder_attention_mask=mask,
        **kwargs,
    )
    return out.logits.reshape(*inputs.shape[:2], *out.logits.shape[1:]), out


@pytest.mark.parametrize("which", sorted(SPECS))
def test_token_by_token_equals_full_pass(backbone, batch, which):
    attached = attach(backbone, SPECS[which], fps=FPS)
    perturb(attached, scale=0.3)  # zero-initialised layers would make the check vacuous
    inputs = backbone.delay(batch["codes"])[..., :18]
    memory, mask = batch["memory"], batch["mask"]
    with torch.no_grad(), attached.conditioned(batch["features"]):
        full, _ = decoder_logits(backbone, inputs, memory, mask, use_cache=False)
        steps, cache = [], None
        prefill = 5  # a multi-token prefill, then one token at a time (as the sampler does)
        chunk, out = decoder_logits(backbone, inputs[..., :prefill], memory, mask, use_cache=True)
        steps.append(chunk)
        cache = out.past_key_values
        for t in range(prefill, inputs.shape[-1]):
            chunk, out = decoder_logits(
                backbone, inputs[..., t : t + 1], memory, mask, past_key_values=cache, use_cache=True
            )
            cache = out.past_key_values
            steps.append(chunk)
    incremental = torch.cat(steps, dim=2)
    torch.testing.assert_close(incremental, full, rtol=1e-5, atol=1e-5)
    # and the adapter really acts: without features the same pass differs
    with torch.no_grad():
        bare, _ = decoder_logits(backbone, inputs, memory, mask, use_cache=False)
    assert not torch.allclose(bare, full)


def test_rhythm_adds_curve_value_of_each_step(backbone, batch):
    """Signal entering the hooked layer at step s is the (perturbed) projection of the curve at s·fps/rate."""
    from toolkit.features.resample import frame_positions, resample_time

    attached = attach(backbone, [{"name": "rhythm", "block_size": 2}], fps=FPS)
    rhythm = attached.conditioners["rhythm"]
    assert rhythm.layer_ids == [0, 2]
    perturb(rhythm, scale=0.3)
    seen = {}

    def capture(key):
        def hook(_module, args, kwargs):
            seen[key] = (args[0] if args else kwargs["hidden_states"]).clone()

        return hook

    inputs = backbone.delay(batch["codes"])
    layer = backbone.decoder_layers[2]
    handles = [
        layer.register_forward_pre_hook(capture("before"), with_kwargs=True, prepend=True),
        layer.register_forward_pre_hook(capture("after"), with_kwargs=True),
    ]
    try:
        with torch.no_grad(), attached.conditioned(batch["features"]):
            decoder_logits(backbone, inputs, batch["memory"], batch["mask"], use_cache=False)
    finally:
        for handle in handles:
            handle.remove()
    added = seen["after"] - seen["before"]
    steps = inputs.shape[-1]
    curve = batch["features"]["interframe"]["distance"][..., None].clone()
    curve[1, 8:] = curve[1, 7]  # past its end a clip holds its last frame (then the step mask cuts it)
    expected = rhythm.zero_linears[1](
        rhythm.encoder(resample_time(curve, frame_positions(steps, FPS, 100.0)))
    )
    valid_steps = [steps, 16]  # clip 2's video ends after frame 8 (16 steps at 100 Hz): no signal after it
    for row, valid in enumerate(valid_steps):
        torch.testing.assert_close(added[row, :valid], expected[row, :valid], rtol=1e-4, atol=1e-5)
        assert torch.count_nonzero(added[row, valid:]) == 0
