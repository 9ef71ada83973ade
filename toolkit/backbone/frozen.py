"""The frozen backbone: MusicGen in eval mode without gradients, and what conditioners read from it."""

from __future__ import annotations

from pathlib import Path

import torch

from toolkit.backbone import codec, delay, text


def freeze(model: torch.nn.Module) -> torch.nn.Module:
    """Eval mode and `requires_grad=False` on every parameter (adapters add their own trainable ones)."""
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return model


class Backbone:
    """A frozen `MusicgenForConditionalGeneration` with its tokenizer, and the codec its codes belong to.

    Exposes text encoding (and the classifier-free null), codec codes and continuous latents, the delay
    pattern, and the decoder layers that conditioners hook into. Its weights are never changed.
    `codec` replaces the model's own `audio_encoder` (the micro backbone passes its `SpectralCodec`); then
    only the toolkit's sampling loop and `decode_codes` give valid audio, not transformers' `generate()`.
    """

    def __init__(self, model, tokenizer, source: str | Path = "", codec=None) -> None:
        self.model = freeze(model)
        self.tokenizer = tokenizer
        self.source = str(source)
        self._codec = freeze(codec) if codec is not None else None

    # --- sizes -------------------------------------------------------------------------------------------
    @property
    def codec(self):
        """The audio codec: the one given at construction, else the model's `EncodecModel`."""
        return self._codec if self._codec is not None else self.model.audio_encoder

    @property
    def decoder_layers(self) -> torch.nn.ModuleList:
        """The decoder's transformer blocks: the hook points for in-attention and extra cross-attention."""
        return self.model.decoder.model.decoder.layers

    @property
    def hidden_size(self) -> int:
        return self.model.config.decoder.hidden_size

    @property
    def memory_size(self) -> int:
        """Width of the text memory the decoder cross-attends to (see `encode_text`)."""
        return text.memory_size(self.model)

    @property
    def num_codebooks(self) -> int:
        return self.model.decoder.num_codebooks

    @property
    def codebook_size(self) -> int:
        return self.model.config.decoder.vocab_size

    @property
    def pad_id(self) -> int:
        """The token for "no frame here" in the delay pattern (also MusicGen's decoder start token)."""
        return self.model.config.decoder.pad_token_id

    @property
    def sample_rate(self) -> int:
        return codec.sample_rate(self.codec)

    @property
    def frame_rate(self) -> float:
        return codec.frame_rate(self.codec)

    @property
    def latent_dim(self) -> int:
        return codec.latent_dim(self.codec)

    @property
    def max_frames(self) -> int:
        """The longest code sequence one decoder pass may hold (positions minus delay steps and start)."""
        return self.model.config.decoder.max_position_embeddings - self.num_codebooks

    @property
    def device(self) -> torch.device:
        return self.model.device

    # --- text --------------------------------------------------------------------------------------------
    def encode_text(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompts → `(memory (B,L,memory_size), mask (B,L))`; an empty prompt encodes to the null."""
        return text.encode_text(self.model, self.tokenizer, prompts)

    def null_text(self, batch: int, length: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """The unconditional (classifier-free) memory and mask."""
        return text.null_text(self.model, batch, length)

    # --- codec -------------------------------------------------------------------------------------------
    def encode_audio(self, wave: torch.Tensor) -> torch.Tensor:
        """Wave `(B,n)` at `sample_rate` → codes `(B,K,T)`."""
        return codec.encode_codes(self.codec, wave, self.num_codebooks)

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `(B,K,T)` → wave `(B, T·hop)`."""
        return codec.decode_codes(self.codec, codes)

    def encode_latents(self, wave: torch.Tensor) -> torch.Tensor:
        """Wave `(B,n)` → continuous latents `(B,C,T)`."""
        return codec.encode_latents(self.codec, wave)

    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Continuous latents `(B,C,T)` → wave."""
        return codec.decode_latents(self.codec, latents)

    def quantize_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Continuous latents → codes `(B,K,T)`."""
        return codec.quantize_latents(self.codec, latents, self.num_codebooks)

    def num_frames(self, seconds: float) -> int:
        """Codec frames covering `seconds` of audio."""
        return codec.num_frames(self.codec, round(seconds * self.sample_rate))

    # --- delay pattern -----------------------------------------------------------------------------------
    def delay(self, codes: torch.Tensor) -> torch.Tensor:
        """`(B,K,T)` → delayed `(B,K,T+K-1)` padded with `pad_id`."""
        return delay.delay_codes(codes, self.pad_id)

    def undelay(self, delayed: torch.Tensor) -> torch.Tensor:
        """Delayed `(B,K,S)` → `(B,K,S-K+1)`."""
        return delay.undelay_codes(delayed)

    def labels(self, codes: torch.Tensor) -> torch.Tensor:
        """Training labels `(B,T+K-1,K)` for `model.decoder(labels=...)` (pads are ignored by the loss)."""
        return delay.delayed_labels(codes, self.pad_id)

    # --- decoder -----------------------------------------------------------------------------------------
    def decoder_forward(self, codes: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor, **kwargs):
        """Teacher-forced decoder pass on frame-aligned codes `(B,K,T)`.

        Returns transformers' output: `.loss` (mean per-codebook cross-entropy) and `.logits`
        `(B·K, T+K-1, V)`. Extra kwargs go to the decoder.
        """
        return self.model.decoder(
            labels=self.labels(codes), encoder_hidden_states=memory, encoder_attention_mask=mask, **kwargs
        )

    def to(self, device: str | torch.device) -> Backbone:
        self.model.to(device)
        if self._codec is not None:
            self._codec.to(device)
        return self

    def __repr__(self) -> str:
        params = sum(p.numel() for p in self.model.decoder.parameters())
        return (
            f"Backbone({self.source!r}, decoder {params / 1e6:.1f}M params, "
            f"{len(self.decoder_layers)} layers, "
            f"width {self.hidden_size}, {self.num_codebooks}x{self.codebook_size} codes at "
            f"{self.frame_rate:g} Hz, {self.sample_rate} Hz audio)"
        )
