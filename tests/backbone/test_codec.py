import math

import torch


def test_frame_rate_and_shapes(tiny):
    hop = math.prod(tiny.codec.config.upsampling_ratios)
    assert tiny.frame_rate == tiny.sample_rate / hop == 100
    wave = torch.randn(3, tiny.sample_rate // 2)
    codes = tiny.encode_audio(wave)
    assert codes.shape == (3, tiny.num_codebooks, 50) == (3, tiny.num_codebooks, tiny.num_frames(0.5))
    assert codes.dtype == torch.long and 0 <= codes.min() and codes.max() < tiny.codebook_size
    assert tiny.decode_codes(codes).shape == (3, 50 * hop)
    latents = tiny.encode_latents(wave)
    assert latents.shape == (3, tiny.latent_dim, 50)
    assert tiny.decode_latents(latents).shape == (3, 50 * hop)


def test_codes_are_quantised_latents(tiny):
    from toolkit.backbone.codec import dequantize_codes

    wave = torch.randn(2, 800)
    codes = tiny.encode_audio(wave)
    assert torch.equal(tiny.quantize_latents(tiny.encode_latents(wave)), codes)
    # decoding codes is decoding their dequantised latents
    assert torch.allclose(tiny.decode_codes(codes), tiny.decode_latents(dequantize_codes(tiny.codec, codes)))
    # different audio gives different codes
    assert not torch.equal(tiny.encode_audio(torch.randn(2, 800)), codes)
