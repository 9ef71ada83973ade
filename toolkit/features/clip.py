"""CLIP image features per frame: projected pooled embedding (`global`) and patch tokens (`local`)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.errors import UserError
from toolkit.features.kinds import FRAMES, Feature
from toolkit.features.registry import Extractor, register_extractor
from toolkit.utils.ranges import Range

TINY_RANDOM = "tiny-random"
# Architecture of the offline default: small enough to run on CPU in milliseconds per frame.
_TINY_ARCH = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    projection_dim=32,
    patch_size=32,
)
# CLIP's published normalisation statistics, so the tiny model sees inputs scaled like a real one's.
_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

log = logging.getLogger(__name__)


@register_extractor("clip")
class ClipFeatures(Extractor):
    """CLIP vision features of each frame, via transformers' `CLIPVisionModelWithProjection`.

    `model`: a hub id, a local directory saved with `save_pretrained`, or "tiny-random" (a small, randomly
    initialised model built from `seed`: deterministic, offline, and without semantics). Outputs `global`
    (T, projection_dim) and `local` (T, n_patches, hidden_size), the last hidden state without the CLS token.
    The model loads on first call, so a run served fully from the cache never loads it.
    """

    kind = "video"
    ranges = {"image_size": Range(16, 1024), "batch_size": Range(1, 4096)}

    def __init__(
        self,
        model: str = TINY_RANDOM,
        image_size: int = 224,
        seed: int = 0,
        revision: str | None = None,
        batch_size: int = 32,
        device: str = "cpu",
    ):
        self.model = str(model)
        self.image_size = int(image_size)
        self.seed = int(seed)
        self.revision = revision
        self.batch_size = int(batch_size)
        self.device = device
        if self.model != TINY_RANDOM and Path(self.model).is_dir():
            self._source: dict[str, Any] = {"dir": _fingerprint_dir(Path(self.model))}
        elif self.model == TINY_RANDOM:
            self._source = {"tiny_random": {**_TINY_ARCH, "image_size": self.image_size, "seed": self.seed}}
        else:
            self._source = {"hub": self.model, "revision": revision}

    def outputs(self) -> dict[str, Feature]:
        return {"global": FRAMES, "local": FRAMES}

    def config(self) -> dict:
        # The weights' identity decides the output; batch size and device do not (up to float noise).
        return {"source": self._source}

    def __call__(self, frames: Any) -> dict[str, np.ndarray]:
        import torch

        model, processor = _load(self.model, self.image_size, self.seed, self.revision, self.device)
        images = list(np.asarray(frames.array))
        if not images:
            raise UserError("clip: no frames to encode")
        global_out, local_out = [], []
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                batch = processor(images=images[start : start + self.batch_size], return_tensors="pt")
                out = model(pixel_values=batch["pixel_values"].to(self.device))
                global_out.append(out.image_embeds.float().cpu().numpy())
                local_out.append(out.last_hidden_state[:, 1:, :].float().cpu().numpy())
        return {"global": np.concatenate(global_out), "local": np.concatenate(local_out)}


def _fingerprint_dir(directory: Path) -> dict[str, str]:
    """Content hashes of a saved model's config and weights, so retrained weights in one folder miss."""
    from toolkit.data.cache import file_hash

    files = sorted(p for p in directory.iterdir() if p.suffix in (".json", ".safetensors", ".bin") and p.is_file())
    if not any(p.name == "config.json" for p in files):
        raise UserError(f"{directory}: not a saved CLIP model (no config.json)")
    return {p.name: file_hash(p) for p in files}


@functools.lru_cache(maxsize=4)
def _load(model: str, image_size: int, seed: int, revision: str | None, device: str):
    """(model in eval mode, image processor), loaded once per process per setting."""
    from transformers import CLIPVisionModelWithProjection

    if model == TINY_RANDOM:
        net, processor = _tiny_random(image_size, seed)
    elif model.startswith((".", "/", "~")) and not Path(model).expanduser().is_dir():
        raise UserError(f"features.extractors.clip.model: {model}: no such directory (give a hub id, a local "
                        f"directory saved with save_pretrained, or {TINY_RANDOM})")
    else:
        try:
            net = CLIPVisionModelWithProjection.from_pretrained(model, revision=revision)
            processor = _pil_processor_from_pretrained(model, revision)
        except OSError as e:
            raise UserError(f"clip model {model!r}: cannot load ({str(e).splitlines()[0]})") from None
    return net.to(device).eval(), processor


def _tiny_random(image_size: int, seed: int):
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    log.warning(
        "clip: using a tiny randomly initialised CLIP (seed %d); its features carry no semantics "
        "(enough for the micro world, whose frames differ in low-level colour and motion)",
        seed,
    )
    config = CLIPVisionConfig(image_size=image_size, **_TINY_ARCH)
    # Seed a private RNG stream: the same weights in every process, and the caller's RNG left untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = CLIPVisionModelWithProjection(config)
    processor = _pil_processor_class()(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
        image_mean=_CLIP_MEAN,
        image_std=_CLIP_STD,
    )
    return net, processor


def _pil_processor_class():
    # transformers 5 splits the PIL and torchvision backends; torchvision is never a dependency here.
    try:
        from transformers import CLIPImageProcessorPil

        return CLIPImageProcessorPil
    except ImportError:
        from transformers import CLIPImageProcessor

        return CLIPImageProcessor


def _pil_processor_from_pretrained(model: str, revision: str | None):
    from transformers import AutoImageProcessor

    try:
        return AutoImageProcessor.from_pretrained(model, revision=revision, backend="pil")
    except TypeError:  # transformers 4.x has no `backend`
        return AutoImageProcessor.from_pretrained(model, revision=revision, use_fast=False)
