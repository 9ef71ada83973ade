"""The backbone's audio codec: discrete codes and continuous latents, whichever codec the backbone uses.

Hub and local MusicGen checkpoints use their own `EncodecModel`; the micro backbone uses a `SpectralCodec`
(see `spectral.py`). Each function here dispatches on the codec's type so callers need not care.

Waves are `(B, n)` float at the codec's sample rate; codes are `(B, K, T)`; latents are `(B, C, T)`, the
encoder output before quantisation (what continuous-latent heads such as Loc-DiT denoise).
"""

from __future__ import annotations

import math

import torch

from toolkit.backbone.spectral import SpectralCodec


def _as_batch_channel(wave: torch.Tensor) -> torch.Tensor:
    """Accept `(n,)`, `(B,n)` or `(B,1,n)`; return `(B,1,n)` as the codec expects."""
    if wave.dim() == 1:
        wave = wave[None]
    if wave.dim() == 2:
        wave = wave[:, None]
    if wave.dim() != 3 or wave.shape[1] != 1:
        raise ValueError(f"expected a mono wave (n,), (B,n) or (B,1,n), got shape {tuple(wave.shape)}")
    return wave


def is_spectral(codec) -> bool:
    return isinstance(codec, SpectralCodec)


def sample_rate(codec) -> int:
    """The codec's audio sample rate."""
    return codec.sample_rate if is_spectral(codec) else codec.config.sampling_rate


def latent_dim(codec) -> int:
    """Channels of the continuous latent."""
    return codec.latent_dim if is_spectral(codec) else codec.config.hidden_size


def hop_length(codec) -> int:
    """Samples per codec frame."""
    if is_spectral(codec):
        return codec.hop_length
    return int(math.prod(codec.config.upsampling_ratios))


def frame_rate(codec) -> float:
    """Codec frames per second (exact, not rounded up as `EncodecConfig.frame_rate` is)."""
    return sample_rate(codec) / hop_length(codec)


def num_frames(codec, num_samples: int) -> int:
    """How many codec frames a wave of `num_samples` samples encodes to."""
    return math.ceil(num_samples / hop_length(codec))


@torch.no_grad()
def encode_codes(codec, wave: torch.Tensor, num_codebooks: int) -> torch.Tensor:
    """Wave → codes `(B, K, T)` with the first `num_codebooks` residual quantisers."""
    if is_spectral(codec):
        return codec.encode_codes(wave)[:, :num_codebooks]
    out = codec.encode(_as_batch_channel(wave).to(codec.device, codec.dtype))
    return out.audio_codes[0, :, :num_codebooks]


@torch.no_grad()
def decode_codes(codec, codes: torch.Tensor) -> torch.Tensor:
    """Codes `(B, K, T)` → wave `(B, T * hop)`."""
    if is_spectral(codec):
        return codec.decode_codes(codes)
    audio = codec.decode(codes[None].to(codec.device), [None] * codes.shape[0]).audio_values
    return audio[:, 0]


@torch.no_grad()
def encode_latents(codec, wave: torch.Tensor) -> torch.Tensor:
    """Wave → continuous latents `(B, C, T)` (the codec encoder's output, unquantised)."""
    if is_spectral(codec):
        return codec.encode_latents(wave)
    return codec.encoder(_as_batch_channel(wave).to(codec.device, codec.dtype))


@torch.no_grad()
def decode_latents(codec, latents: torch.Tensor) -> torch.Tensor:
    """Continuous latents `(B, C, T)` → wave `(B, T * hop)`."""
    if is_spectral(codec):
        return codec.decode_latents(latents)
    return codec.decoder(latents.to(codec.device, codec.dtype))[:, 0]


@torch.no_grad()
def quantize_latents(codec, latents: torch.Tensor, num_codebooks: int) -> torch.Tensor:
    """Continuous latents → codes `(B, K, T)` (nearest residual codewords)."""
    if is_spectral(codec):
        return codec.quantize_latents(latents)[:, :num_codebooks]
    return codec.quantizer.encode(latents.to(codec.device, codec.dtype)).transpose(0, 1)[:, :num_codebooks]


@torch.no_grad()
def dequantize_codes(codec, codes: torch.Tensor) -> torch.Tensor:
    """Codes `(B, K, T)` → the quantised latents `(B, C, T)` the codec decoder reads."""
    if is_spectral(codec):
        return codec.dequantize_codes(codes)
    return codec.quantizer.decode(codes.transpose(0, 1).to(codec.device))
