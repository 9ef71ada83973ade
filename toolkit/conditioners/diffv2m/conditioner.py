"""The `diffv2m` conditioner: Diff-V2M's emotion, semantic and rhythm conditioning, on the token-by-token
decoder (`route: decoder`) or inside a diffusion head's blocks (`route: diffusion`, `diffusion.py`).

Reads (inputs, from the video): `clip.global` (semantic tokens and the predictor's main input), the emotion input
(`colour_mood.features` by default: Diff-V2M's colour features; `valence_arousal.va` for a user's emotion model),
`shots.index` (the predictor's scene-cut embedding) and `interframe.distance` (its pseudo beat). Trained against
(target, from the music): one of `lowres_rhythm.odf | mel | tempogram` (`rhythm`), z-scored per clip.

The rhythm predictor (`predictor.py`) turns the video into the rhythm representation and learns from its masked
MSE alone (auxiliary loss `rhythm_mse`). The generator reads rhythm tokens from the real representation early
in training and from the predicted one later (`schedule.py`); at generation only the predicted one exists,
because the target is withheld. Emotion, semantic and rhythm tokens (each a linear map into the text-memory
space plus an embedding of its time) are read by the hierarchical cross-attention (`hierarchical.py`) after
each chosen decoder layer, every gate at zero: bit-identical logits at initialisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from toolkit.conditioners.base import Conditioner, as_tensor, decoder_layer_indices
from toolkit.conditioners.diffv2m.diffusion import DiffusionBlockConditioning, local_tokens
from toolkit.conditioners.diffv2m.fusion import STATIC_MODES, TIMED_MODES, StaticFusion
from toolkit.conditioners.diffv2m.hierarchical import BRANCHES, HierarchicalCrossAttention, add_hierarchical
from toolkit.conditioners.diffv2m.predictor import RhythmPredictor, cut_flags, masked_mse, sinusoid
from toolkit.conditioners.diffv2m.schedule import real_rhythm_probability
from toolkit.conditioners.hooks.cross import GatedCrossAttention
from toolkit.conditioners.registry import register_conditioner
from toolkit.conditioners.rhythm import median_log_scale
from toolkit.errors import UserError
from toolkit.features.batch import FeatureBatch
from toolkit.features.resample import frame_positions, hold_last, resample_mask, resample_time
from toolkit.utils.ranges import Range

RHYTHMS = ("odf", "mel", "tempogram")
ROUTES = {"decoder": "cross", "diffusion": "diffusion"}  # where the blocks go → their hook point
EMOTION_INPUTS = ("colour_mood.features", "valence_arousal.va")
TIME_DIM = 32  # width of the sinusoidal time code added to every token


@register_conditioner("diffv2m")
class DiffV2MConditioner(Conditioner):
    """Rhythm predictor + hierarchical cross-attention (see the module docstring).

    `rhythm`: which representation (`odf`, `mel`, `tempogram`); `rhythm_bins`: its width for mel and tempogram
    (the extractor's `bins`); `rate`: its values per second (the extractor's `rate`); `emotion_input` and
    `emotion_dim`: the emotion feature and its width (colour_mood: bins³ + 4); `clip_dim`: width of
    `clip.global`; `fps`: the video features' rate; `layers`: decoder layers that get the block; `fusion`:
    `average` or `gate` on the decoder, any of `TIMED_MODES` in a diffusion head; `predictor_width/layers/heads`:
    the predictor's size; `schedule`: the fractions of training where the real rhythm's probability starts to
    fall and reaches 0. `route`: `decoder` (hierarchical cross-attention after decoder layers) or `diffusion` (the
    same blocks after every block of the head's Loc-DiT, with timestep-aware fusion; `dit_width`, `dit_layers`
    must match the head's and `dit_heads` divide the width).
    """

    inputs = ("clip.global", "colour_mood.features", "shots.index", "interframe.distance")
    targets = ("lowres_rhythm.odf",)
    hook = tuple(ROUTES.values())
    ranges = {"dit_width": Range(1), "dit_layers": Range(1), "dit_heads": Range(1), "rhythm_bins": Range(1),
              "rate": Range(0, low_inclusive=False), "emotion_dim": Range(1),
              "clip_dim": Range(1), "fps": Range(0, low_inclusive=False), "predictor_width": Range(1),
              "predictor_layers": Range(1), "predictor_heads": Range(1)}

    @classmethod
    def check_config(cls, kwargs: Mapping[str, Any], where: str) -> None:
        """The ranges, a known rhythm, emotion input and fusion, and a schedule inside [0, 1]."""
        super().check_config(kwargs, where)
        route = kwargs.get("route", "decoder")
        choices = {"route": (route, tuple(ROUTES)), "rhythm": (kwargs.get("rhythm", "odf"), RHYTHMS),
                   "emotion_input": (kwargs.get("emotion_input", EMOTION_INPUTS[0]), EMOTION_INPUTS),
                   "fusion": (kwargs.get("fusion", "average"), TIMED_MODES if route == "diffusion" else STATIC_MODES)}
        for key, (value, allowed) in choices.items():
            if value not in allowed:
                raise UserError(f"{where}.{key}: expected one of {list(allowed)}, got {value!r}")
        start, end = kwargs.get("schedule", (1 / 3, 2 / 3))
        if not 0 <= start <= end <= 1:
            raise UserError(f"{where}.schedule: expected [start, end] with 0 <= start <= end <= 1, got "
                            f"{[start, end]}")

    def __init__(self, backbone: Any, rhythm: str = "odf", rhythm_bins: int = 16, rate: float = 8.0,
                 emotion_input: str = "colour_mood.features", emotion_dim: int = 516, clip_dim: int = 32,
                 fps: float = 8.0, layers: Any = "all", fusion: str = "average", predictor_width: int = 64,
                 predictor_layers: int = 2, predictor_heads: int = 4,
                 schedule: tuple[float, float] = (1 / 3, 2 / 3), route: str = "decoder", dit_width: int = 128,
                 dit_layers: int = 2, dit_heads: int = 4) -> None:
        super().__init__(backbone)
        where = "conditioners.diffv2m"
        self.check_config({"route": route, "dit_width": dit_width, "dit_layers": dit_layers, "dit_heads": dit_heads,
                           "rhythm": rhythm, "emotion_input": emotion_input, "fusion": fusion,
                           "schedule": tuple(schedule), "rhythm_bins": rhythm_bins, "rate": rate,
                           "emotion_dim": emotion_dim, "clip_dim": clip_dim, "fps": fps,
                           "predictor_width": predictor_width, "predictor_layers": predictor_layers,
                           "predictor_heads": predictor_heads}, where)
        self.rate, self.fps = float(rate), float(fps)
        self.emotion_key, self.schedule = emotion_input, (float(schedule[0]), float(schedule[1]))
        self.inputs = ("clip.global", emotion_input, "shots.index", "interframe.distance")
        self.targets = (f"lowres_rhythm.{rhythm}",)
        self.rhythm_dim = 1 if rhythm == "odf" else int(rhythm_bins)
        self.dims = {"emotion": int(emotion_dim), "semantic": int(clip_dim), "rhythm": self.rhythm_dim}
        self.route, self.hook = route, ROUTES[route]
        self.dit_shape = (int(dit_width), int(dit_layers))
        width = int(dit_width) if route == "diffusion" else backbone.memory_size  # what the tokens are mapped into
        self.predictor = RhythmPredictor(int(clip_dim), self.rhythm_dim, int(predictor_width),
                                         int(predictor_layers), int(predictor_heads))
        self.to_tokens = nn.ModuleDict({b: nn.Linear(d, width) for b, d in self.dims.items()})
        self.time_code = nn.ModuleDict({b: nn.Linear(TIME_DIM, width, bias=False) for b in BRANCHES})
        if route == "diffusion":
            self.layer_ids = list(range(int(dit_layers)))
            self.blocks = nn.ModuleList(DiffusionBlockConditioning(width, int(dit_heads), fusion)
                                        for _ in self.layer_ids)
        else:
            self.layer_ids = decoder_layer_indices(len(backbone.decoder_layers), layers, where)
            self.blocks = nn.ModuleList(
                HierarchicalCrossAttention(
                    {b: GatedCrossAttention.from_attention(backbone.cross_attention(i),
                                                           backbone.cross_attention_norm(i), backbone.num_heads)
                     for b in BRANCHES},
                    StaticFusion(fusion))
                for i in self.layer_ids)
        self._times: dict[str, torch.Tensor] = {}
        self._local: tuple[Any, dict] | None = None  # (the PatchWhere it was cut for, its tokens)
        self._prepared: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] | None = None
        self._loss: torch.Tensor | None = None
        self._predictions: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    # --- hooks -------------------------------------------------------------------------------------------
    def attach(self) -> None:
        if self.attached:
            return
        if self.route == "diffusion":
            dit = getattr(self.head, "dit", None)
            shape = None if dit is None else (dit.width, len(dit.blocks))
            if shape != self.dit_shape:
                raise UserError(f"conditioners.diffv2m: route: diffusion needs a head with Loc-DiT blocks of width and "
                                f"count {self.dit_shape} (dit_width, dit_layers); the head has {shape}")
            self._handles.append(self.head.add_block_hook(self._diffusion_hook))
            return
        for i, block in zip(self.layer_ids, self.blocks, strict=True):
            self._handles.append(add_hierarchical(self.backbone.decoder_layers[i], block, lambda: self._prepared))

    def _diffusion_hook(self, index: int, hidden: torch.Tensor, t: torch.Tensor, context: Any) -> torch.Tensor:
        if self._prepared is None:
            return hidden
        where = context[2] if len(context) > 2 else None
        if where is None:
            raise UserError("conditioners.diffv2m: the diffusion head gives no patch positions (PatchWhere)")
        if self._local is None or self._local[0] is not where:  # once per patch, not per block and Euler step
            rates = {"emotion": self.fps, "semantic": self.fps, "rhythm": self.rate}
            self._local = (where, local_tokens(self._prepared, self._times, rates, where))
        return self.blocks[index](hidden, t, self._local[1])

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        predictor = list(self.predictor.parameters())
        ids = {id(p) for p in predictor}
        return {"rhythm_predictor": predictor, "attention": [p for p in self.parameters() if id(p) not in ids]}

    # --- features → tokens -------------------------------------------------------------------------------
    def prepare(self, features: FeatureBatch) -> None:
        device = next(self.parameters()).device
        clip = as_tensor(features["clip.global"], device=device)
        if clip.dim() != 3 or clip.shape[-1] != self.dims["semantic"]:
            raise UserError(f"conditioners.diffv2m: clip.global has shape {tuple(clip.shape)}, expected "
                            f"(batch, frames, {self.dims['semantic']}); set clip_dim")
        video_mask = features.mask("clip.global").to(device)
        keep = (video_mask.sum(-1) > 0).float()
        emotion = self._frames(features, self.emotion_key, device, self.dims["emotion"], "emotion_dim")
        shots = as_tensor(features["shots.index"], torch.long, device)
        distance = as_tensor(features["interframe.distance"], device=device)
        distance = distance[..., 0] if distance.dim() == 3 else distance
        pseudo_beat = median_log_scale(distance.float(), video_mask)
        predicted = self.predictor(clip.float(), cut_flags(shots), pseudo_beat, video_mask)

        if features.training:
            target, target_mask = self._target(features, device)
            steps = target.shape[1]
        else:
            target, target_mask = None, None
            steps = max(1, round(clip.shape[1] * self.rate / self.fps))
        positions = frame_positions(steps, self.fps, self.rate)
        predicted = resample_time(hold_last(predicted, video_mask), positions)
        rhythm_mask = resample_mask(video_mask, positions)
        rhythm = predicted.detach()  # the generator's gradient never reaches the predictor
        self._loss, self._predictions = None, {}
        if target is not None:
            both = rhythm_mask * target_mask
            self._loss = masked_mse(predicted, target, both)
            self._predictions = {self.targets[0]: (predicted.detach(), target, both)}
            share = real_rhythm_probability(*self.progress, *self.schedule)
            real = torch.rand(target.shape[0], device=device) < share
            rhythm = torch.where(real[:, None, None], target, rhythm)
            rhythm_mask = torch.where(real[:, None], target_mask, rhythm_mask)
        self._local = None
        self._prepared = {
            "emotion": self._tokens("emotion", emotion, video_mask, self.fps, keep),
            "semantic": self._tokens("semantic", clip, video_mask, self.fps, keep),
            "rhythm": self._tokens("rhythm", rhythm, rhythm_mask * keep[:, None], self.rate, keep),
        }

    def _frames(self, features: FeatureBatch, key: str, device, width: int, name: str) -> torch.Tensor:
        x = as_tensor(features[key], device=device)
        if x.dim() != 3 or x.shape[-1] != width:
            raise UserError(f"conditioners.diffv2m: {key} has shape {tuple(x.shape)}, expected (batch, frames, "
                            f"{width}); set {name}")
        return x

    def _target(self, features: FeatureBatch, device) -> tuple[torch.Tensor, torch.Tensor]:
        """The real rhythm `(B, T, rhythm_dim)`, z-scored per clip and dimension over its valid steps."""
        key = self.targets[0]
        target = as_tensor(features[key], device=device)
        target = target[..., None] if target.dim() == 2 else target
        if target.shape[-1] != self.rhythm_dim:
            raise UserError(f"conditioners.diffv2m: {key} has width {target.shape[-1]}, expected "
                            f"{self.rhythm_dim}; set rhythm_bins to the extractor's bins")
        mask = features.mask(key).to(device)
        weight = mask[..., None]
        count = weight.sum(1, keepdim=True).clamp(min=1)
        mean = (target * weight).sum(1, keepdim=True) / count
        std = (((target - mean) ** 2 * weight).sum(1, keepdim=True) / count).sqrt()
        return (target - mean) / (std + 1e-5) * weight, mask

    def _tokens(self, branch: str, x: torch.Tensor, mask: torch.Tensor, rate: float,
                keep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        dtype = self.to_tokens[branch].weight.dtype
        times = torch.arange(x.shape[1], device=x.device) / rate
        self._times[branch] = times
        code = self.time_code[branch](sinusoid(times * 4.0, TIME_DIM).to(dtype))
        tokens = (self.to_tokens[branch](x.to(dtype)) + code) * mask[..., None].to(dtype)
        return tokens, mask, keep

    def target_predictions(self) -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        return dict(self._predictions)

    def auxiliary_losses(self) -> dict[str, torch.Tensor]:
        return {} if self._loss is None else {"rhythm_mse": self._loss}

    def release(self) -> None:
        self._prepared, self._local = None, None
