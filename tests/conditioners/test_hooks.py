"""Hook points on their own: FiLM is the identity at init, plans expand to frames, offsets track the cache."""

from __future__ import annotations

import pytest
import torch

from toolkit.conditioners.hooks import FiLM, add_film, add_in_attention, timestep_embedding

from .conftest import perturb


def test_film_is_identity_at_init_and_modulates_after_training():
    torch.manual_seed(0)
    film = FiLM(dim=6, cond_dim=3, time_dim=8)
    h = torch.randn(2, 5, 6)
    t, cond = torch.tensor([3.0, 700.0]), torch.randn(2, 3)
    assert torch.equal(film(h, t, cond), h)
    perturb(film, scale=0.1)
    out = film(h, t, cond)
    assert not torch.allclose(out, h)
    # per-clip modulation: the same scale and shift at every position of a clip
    ratio = (out[0, 1] - out[0, 0]) / (h[0, 1] - h[0, 0])
    scale = film.to_scale_shift(film.mlp(torch.cat([timestep_embedding(t, 8), cond], -1)))[0, :6]
    torch.testing.assert_close(ratio, 1 + scale, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="pass t"):
        film(h, None, cond)


def test_film_hook_modulates_a_module_output():
    film, linear = FiLM(dim=4, time_dim=8), torch.nn.Linear(4, 4)
    x = torch.randn(3, 4)
    handle = add_film(linear, film, lambda: (torch.tensor([1.0, 2.0, 3.0]), None))
    assert torch.equal(linear(x), torch.nn.functional.linear(x, linear.weight, linear.bias))
    with torch.no_grad():
        film.to_scale_shift.bias.fill_(0.5)
    assert torch.allclose(linear(x), torch.nn.functional.linear(x, linear.weight, linear.bias) * 1.5 + 0.5)
    handle.remove()


def test_in_attention_reads_the_cache_offset(backbone):
    """Under a KV cache the hook sees how many positions came before (prefill 3, then 1 at a time)."""
    seen = []

    def signal(offset, length):
        seen.append((offset, length))
        return None

    handle = add_in_attention(backbone.decoder_layers[2], signal)
    inputs = torch.zeros(1 * backbone.num_codebooks, 6, dtype=torch.long)
    memory, mask = backbone.null_text(1)
    with torch.no_grad():
        out = backbone.model.decoder(
            input_ids=inputs[:, :3], encoder_hidden_states=memory, encoder_attention_mask=mask, use_cache=True
        )
        for t in range(3, 6):
            out = backbone.model.decoder(
                input_ids=inputs[:, t : t + 1],
                encoder_hidden_states=memory,
                encoder_attention_mask=mask,
                past_key_values=out.past_key_values,
                use_cache=True,
            )
    handle.remove()
    assert seen == [(0, 3), (3, 1), (4, 1), (5, 1)]
