"""VidMusician's semantic conditioner: CLIP global features over time, mapped into the backbone's
text-embedding space and read by cross-attention in every decoder layer.

Two routes (kwarg `route`):

- `"decoupled"` (hook `cross`): an identity-initialised linear maps each frame's CLIP global feature into the
  text-memory space (what the decoder's cross-attention reads); each chosen layer gets an *extra* gated
  cross-attention over these video tokens, initialised as a copy of the layer's own text cross-attention (so
  video tokens are read like text from the start) with its gate at 0. **Bit-identical to the frozen backbone
  at initialisation.**
- `"text_encoder"` (hook `memory`), the paper's route: an identity-initialised linear maps the features into
  the text encoder's *input* embedding space; the (frozen, optionally LoRA-tuned — see the `lora`
  conditioner's `text_encoder`) text encoder turns them into memory tokens, which are appended to the text
  memory that the decoder's own cross-attention reads in every layer. **Not bit-identical at initialisation**:
  the appended tokens take part in the softmax as soon as they exist (identity init keeps them meaningful, not
  absent). Rows without video (mask all zero) append only masked tokens: equal to the backbone up to rounding.

Both routes leave rows without video (see `toolkit.features.batch`) as the backbone computes them (exactly
for `decoupled`). Video tokens are the feature frames themselves (at `fps`), or resampled to `token_rate`
tokens per second when set, to bound the memory length of long videos.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from toolkit.conditioners.base import Conditioner, as_tensor, decoder_layer_indices
from toolkit.conditioners.hooks.cross import GatedCrossAttention, add_cross_attention
from toolkit.conditioners.hooks.memory import extend_memory
from toolkit.conditioners.init import identity_linear
from toolkit.conditioners.registry import register_conditioner
from toolkit.errors import UserError
from toolkit.features.batch import FeatureBatch
from toolkit.features.resample import frame_positions, hold_last, resample_mask, resample_time
from toolkit.utils.ranges import Range

ROUTES = {"decoupled": "cross", "text_encoder": "memory"}
INITS = ("copy", "random")  # of the extra cross-attention (decoupled route)


@register_conditioner("semantic")
class SemanticConditioner(Conditioner):
    """Global video semantics → cross-attention in every decoder layer (see the module docstring).

    `feature_dim`: width of `clip.global` (512 for CLIP ViT-B/32, 768 for ViT-L/14, 32 for the micro world's
    tiny CLIP). `layers`: decoder layers that get an extra cross-attention ("all" or indices; decoupled route
    only). `init`: "copy" the layer's text cross-attention or "random" (decoupled route). `fps`: rate of the
    features.
    """

    inputs = ("clip.global",)
    hook = tuple(ROUTES.values())
    ranges = {"feature_dim": Range(1), "token_rate": Range(0, low_inclusive=False)}

    @classmethod
    def check_config(cls, kwargs: Mapping[str, Any], where: str) -> None:
        """The ranges, and a known `route` and `init`."""
        super().check_config(kwargs, where)
        route, init = kwargs.get("route", "decoupled"), kwargs.get("init", "copy")
        if route not in ROUTES:
            raise UserError(f"{where}.route: expected one of {sorted(ROUTES)}, got {route!r}")
        if init not in INITS:
            raise UserError(f"{where}.init: expected one of {list(INITS)}, got {init!r}")

    def __init__(
        self,
        backbone: Any,
        route: str = "decoupled",
        feature_dim: int = 512,
        layers: Any = "all",
        init: str = "copy",
        gate_init: float = 0.0,
        fps: float = 8.0,
        token_rate: float | None = None,
    ) -> None:
        super().__init__(backbone)
        self.check_config({"route": route, "init": init, "feature_dim": feature_dim, "token_rate": token_rate},
                          "conditioners.semantic")
        self.route, self.hook = route, ROUTES[route]
        self.feature_dim, self.fps, self.token_rate = int(feature_dim), float(fps), token_rate
        if route == "decoupled":
            self.layer_ids = decoder_layer_indices(
                len(backbone.decoder_layers), layers, "conditioners.semantic"
            )
            self.to_memory = identity_linear(self.feature_dim, backbone.memory_size)
            heads = backbone.num_heads
            self.cross = nn.ModuleList(
                GatedCrossAttention.from_attention(
                    backbone.cross_attention(i), backbone.cross_attention_norm(i), heads, gate_init
                )
                if init == "copy"
                else GatedCrossAttention(backbone.hidden_size, backbone.memory_size, heads, gate_init)
                for i in self.layer_ids
            )
        else:
            self.layer_ids = list(range(len(backbone.decoder_layers)))  # the decoder's own cross-attention
            self.to_text = identity_linear(self.feature_dim, backbone.text_input_width)
        self._prepared: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    # --- hooks -------------------------------------------------------------------------------------------
    def attach(self) -> None:
        if self.attached:
            return
        if self.route == "decoupled":
            for i, module in zip(self.layer_ids, self.cross, strict=True):
                self._handles.append(
                    add_cross_attention(self.backbone.decoder_layers[i], module, self._memory)
                )
        else:
            self._handles.append(extend_memory(self.backbone.decoder_stack, self._extra_memory))

    def _memory(self):
        return self._prepared

    def _extra_memory(self):
        return None if self._prepared is None else self._prepared[:2]

    # --- features → video tokens -------------------------------------------------------------------------
    def prepare(self, features: FeatureBatch) -> None:
        device = next(self.parameters()).device
        frames = as_tensor(features["clip.global"], device=device)
        if frames.dim() != 3 or frames.shape[-1] != self.feature_dim:
            raise UserError(
                f"conditioners.semantic: clip.global has shape {tuple(frames.shape)}, expected "
                f"(batch, frames, {self.feature_dim}); set feature_dim to the CLIP model's width"
            )
        mask = features.mask("clip.global").to(device)
        if self.token_rate:
            positions = frame_positions(
                max(1, round(frames.shape[1] * self.token_rate / self.fps)), self.fps, self.token_rate
            )
            frames, mask = resample_time(hold_last(frames, mask), positions), resample_mask(mask, positions)
        keep = (mask.sum(-1) > 0).float()
        tokens = (
            self._encode_decoupled(frames) if self.route == "decoupled" else self._encode_text(frames, mask)
        )
        tokens = tokens * mask[..., None].to(tokens.dtype)
        self._prepared = (tokens, mask, keep)

    def _encode_decoupled(self, frames: torch.Tensor) -> torch.Tensor:
        return self.to_memory(frames.to(self.to_memory.weight.dtype))

    def _encode_text(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        embeds = self.to_text(frames.to(self.to_text.weight.dtype))
        # A row without any frame would give the encoder a fully masked row (NaN in some attention kernels):
        # let it attend to its (zero) padding instead; its tokens stay masked out of the decoder.
        attend = torch.where(mask.sum(-1, keepdim=True) > 0, mask, torch.ones_like(mask)).long()
        return self.backbone.encode_text_embeddings(embeds, attend)

    def release(self) -> None:
        self._prepared = None
