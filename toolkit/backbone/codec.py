"""The backbone's audio codec (transformers' `EncodecModel`): discrete codes and continuous latents.

Waves are `(B, n)` float at the codec's sample rate; codes are `(B, K, T)`; latents are `(B, C, T)`, the
encoder output before quantisation (what continuous-latent heads such as Loc-DiT denoise).
"""

from __future__ import annotations

import math

import torch


def _as_batch_channel(wave: torch.Tensor) -> torch.Tensor:
    """Accept `(n,)`, `(B,n)` or `(B,1,n)`; return `(B,1,n)` as the codec expects."""
    if wave.dim() == 1:
        wave = wave[None]
    if wave.dim() == 2:
        wave = wave[:, None]
    if wave.dim() != 3 or wave.shape[1] != 1:
        raise ValueError(f"expected a mono wave (n,), (B,n) or (B,1,n), got shape {tuple(wave.shape)}")
    return wave


def hop_length(codec) -> int:
    """Samples per codec frame."""
    return int(math.prod(codec.config.upsampling_ratios))


def frame_rate(codec) -> float:
    """Codec frames per second (exact, not rounded up as `EncodecConfig.frame_rate` is)."""
    return codec.config.sampling_rate / hop_length(codec)


def num_frames(codec, num_samples: int) -> int:
    """How many codec frames a wave of `num_samples` samples encodes to."""
    return math.ceil(num_samples / hop_length(codec))


@torch.no_grad()
def encode_codes(codec, wave: torch.Tensor, num_codebooks: int) -> torch.Tensor:
    """Wave → codes `(B, K, T)` with the first `num_codebooks` residual quantisers."""
    out = codec.encode(_as_batch_channel(wave).to(codec.device, codec.dtype))
    return out.audio_codes[0, :, :num_codebooks]


@torch.no_grad()
def decode_codes(codec, codes: torch.Tensor) -> torch.Tensor:
    """Codes `(B, K, T)` → wave `(B, T * hop)`."""
    audio = codec.decode(codes[None].to(codec.device), [None] * codes.shape[0]).audio_values
    return audio[:, 0]


@torch.no_grad()
def encode_latents(codec, wave: torch.Tensor) -> torch.Tensor:
    """Wave → continuous latents `(B, C, T)` (the codec encoder's output, unquantised)."""
    return codec.encoder(_as_batch_channel(wave).to(codec.device, codec.dtype))


@torch.no_grad()
def decode_latents(codec, latents: torch.Tensor) -> torch.Tensor:
    """Continuous latents `(B, C, T)` → wave `(B, T * hop)`."""
    return codec.decoder(latents.to(codec.device, codec.dtype))[:, 0]


@torch.no_grad()
def quantize_latents(codec, latents: torch.Tensor, num_codebooks: int) -> torch.Tensor:
    """Continuous latents → codes `(B, K, T)` (nearest residual codewords)."""
    return codec.quantizer.encode(latents.to(codec.device, codec.dtype)).transpose(0, 1)[:, :num_codebooks]


@torch.no_grad()
def dequantize_codes(codec, codes: torch.Tensor) -> torch.Tensor:
    """Codes `(B, K, T)` → the quantised latents `(B, C, T)` the codec decoder reads."""
    return codec.quantizer.decode(codes.transpose(0, 1).to(codec.device))
