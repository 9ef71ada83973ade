"""The frozen backbone: MusicGen in eval mode without gradients, and what conditioners read from it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from toolkit.backbone import codec, delay, text
from toolkit.backbone.cache_kwarg import cache_kwargs

# LoRA's decoder attentions (config name → MusicGen's submodule) and their projections.
LORA_ATTENTION = {"self": "self_attn", "cross": "encoder_attn"}
LORA_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")
# Attention projections of MusicGen's text encoders: T5 (q, k, v, o), BERT (query, key, value).
TEXT_ENCODER_PROJECTIONS = ("q", "k", "v", "o", "query", "key", "value")


def freeze(model: torch.nn.Module) -> torch.nn.Module:
    """Eval mode and `requires_grad=False` on every parameter (adapters add their own trainable ones)."""
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return model


class Backbone:
    """A frozen `MusicgenForConditionalGeneration` with its tokenizer, and the codec its codes belong to.

    Exposes text encoding (and the classifier-free null), codec codes and continuous latents, the delay
    pattern, and the modules adapters attach to (decoder layers and their text cross-attention, the text
    encoder and its projection, LoRA target names). Conditioners and heads ask it for these and never walk
    MusicGen's module paths themselves, so those paths live here only. Its weights are never changed.
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
    def hidden_size(self) -> int:
        return self.model.config.decoder.hidden_size

    @property
    def num_heads(self) -> int:
        """Attention heads per decoder layer (self- and cross-attention alike)."""
        return self.model.config.decoder.num_attention_heads

    @property
    def start_token_id(self) -> int:
        """The token the decoder starts from (equal to `pad_id` in the hub checkpoints, not by definition)."""
        return self.model.config.decoder.decoder_start_token_id

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

    # --- modules adapters attach to ----------------------------------------------------------------------
    @property
    def decoder_stack(self) -> torch.nn.Module:
        """The decoder's layer stack (`MusicgenDecoder`): its forward receives the text memory as
        `encoder_hidden_states` / `encoder_attention_mask`, the place to append memory tokens."""
        return self.model.decoder.model.decoder

    @property
    def decoder_layers(self) -> torch.nn.ModuleList:
        """The decoder's transformer blocks: the hook points for in-attention and extra cross-attention."""
        return self.decoder_stack.layers

    def cross_attention(self, layer_index: int) -> torch.nn.Module:
        """Decoder layer `layer_index`'s text cross-attention (`q_proj`, `k_proj`, `v_proj`, `out_proj`)."""
        return self.decoder_layers[layer_index].encoder_attn

    def cross_attention_norm(self, layer_index: int) -> torch.nn.Module:
        """The layer norm applied to the hidden state before that layer's text cross-attention."""
        return self.decoder_layers[layer_index].encoder_attn_layer_norm

    @property
    def text_encoder(self) -> torch.nn.Module:
        """The frozen text encoder (T5 in the hub checkpoints): prompts or input embeddings → hidden states."""
        return self.model.text_encoder

    @property
    def text_input_width(self) -> int:
        """Width of the text encoder's input embeddings (what `encode_text_embeddings` takes)."""
        return self.text_encoder.get_input_embeddings().embedding_dim

    @property
    def text_projection(self) -> torch.nn.Module | None:
        """`enc_to_dec_proj`, mapping text-encoder states to the memory width; None when the widths agree."""
        return getattr(self.model, "enc_to_dec_proj", None)

    def encode_text_embeddings(self, embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Input embeddings `(B,L,text_input_width)` → memory `(B,L,memory_size)`: the text encoder, then
        `text_projection`. Keeps the graph (unlike `encode_text`), so adapters before or inside the encoder
        train through it; padding is not zeroed."""
        hidden = self.text_encoder(inputs_embeds=embeds, attention_mask=attention_mask).last_hidden_state
        projection = self.text_projection
        return hidden if projection is None else projection(hidden)

    # --- LoRA targets ------------------------------------------------------------------------------------
    def lora_targets(
        self, attention: Sequence[str], projections: Sequence[str], layers: Sequence[int] | None = None
    ) -> list[str]:
        """Names (in `model`, as peft sees them) of the decoder projections LoRA should adapt.

        `attention`: keys of `LORA_ATTENTION` ("self", "cross"); `projections`: of `LORA_PROJECTIONS`;
        `layers`: decoder layer indices, None for all.
        """
        unknown = [a for a in attention if a not in LORA_ATTENTION] + [
            p for p in projections if p not in LORA_PROJECTIONS
        ]
        if unknown:
            raise ValueError(f"unknown LoRA attention or projection names {unknown}")
        prefix = self._module_name(self.decoder_layers)
        ids = range(len(self.decoder_layers)) if layers is None else layers
        return [f"{prefix}.{i}.{LORA_ATTENTION[a]}.{p}" for i in ids for a in attention for p in projections]

    def text_encoder_lora_targets(self, pattern: str | None = None) -> list[str]:
        """Names (in `model`) of the text-encoder modules LoRA should adapt: its attention projections
        (`TEXT_ENCODER_PROJECTIONS`), or the ones whose full name `pattern` matches entirely."""
        prefix = self._module_name(self.text_encoder)
        names = [f"{prefix}.{n}" for n, _ in self.text_encoder.named_modules() if n]
        if pattern is not None:
            return [n for n in names if re.fullmatch(pattern, n)]
        return [n for n in names if n.rsplit(".", 1)[-1] in TEXT_ENCODER_PROJECTIONS]

    def _module_name(self, module: torch.nn.Module) -> str:
        """`module`'s qualified name in `model` (found by identity, so it holds for any layout)."""
        for name, candidate in self.model.named_modules():
            if candidate is module:
                return name
        raise ValueError(f"{type(module).__name__} is not part of the backbone model")

    # --- decoder -----------------------------------------------------------------------------------------
    def decoder_hidden(
        self,
        input_ids: torch.Tensor,
        memory: torch.Tensor,
        mask: torch.Tensor,
        cache: Any = None,
        use_cache: bool = False,
    ) -> Any:
        """The decoder body without its LM heads on `input_ids (B·K, S)`, continuing `cache` when given.

        Returns transformers' output: `.last_hidden_state (B, S, hidden_size)` and `.past_key_values`.
        """
        body = self.model.decoder.model
        return body(
            input_ids=input_ids,
            encoder_hidden_states=memory,
            encoder_attention_mask=mask,
            use_cache=use_cache,
            **cache_kwargs(body, cache),
        )

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
