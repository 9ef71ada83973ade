"""Training clips: music codes, video features and prompts per clip, held in memory, and seeded batches of
random crops drawn from them.

Codes come from the backbone's codec (`encode_audio`) through the content-addressed feature cache, keyed by the
music's bytes and a fingerprint of the codec's weights, so every trial of a sweep shares them. Features come
from the feature pipeline (all cache hits after `toolkit prepare`).

A crop starts on a video frame, and its codes start at the codec frame nearest that time, so feature step 0
and decoder step 0 describe the same moment (to half a codec frame), as the conditioners assume. Every feature
is cut by its own kind (`toolkit.features.kinds.retime`): video frames at the video's rate, a 50 Hz curve at
50 Hz positions, events and segments on the crop's clock.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from toolkit.errors import UserError
from toolkit.features.batch import FeatureBatch
from toolkit.features.kinds import TIMED, Feature
from toolkit.features.read import clip_features


@dataclass
class Clip:
    """One training clip: codes `(K, T)`, features `{dotted key: array (frames, ...)}` at the features' fps,
    its prompt (empty: none) and paraphrases."""

    stem: str
    codes: torch.Tensor
    features: dict[str, np.ndarray] = field(default_factory=dict)
    prompt: str = ""
    paraphrases: tuple[str, ...] = ()
    latents: torch.Tensor | None = None  # continuous codec latents `(C, T)`, for heads that denoise them


@dataclass
class Batch:
    """A batch of crops: codes `(B, K, T)`, prompts, and their `FeatureBatch` (None when none are read); the
    crops' codec latents `(B, C, T)` when the clips carry them."""

    codes: torch.Tensor
    prompts: list[str]
    features: FeatureBatch | None
    stems: list[str]
    latents: torch.Tensor | None = None


class ClipSet:
    """Clips plus crop geometry; draws deterministic batches from a `torch.Generator`. `kinds` says how each
    feature key is laid out in time (default: video frames)."""

    def __init__(
        self,
        clips: Sequence[Clip],
        frame_rate: float,
        fps: float,
        crop_seconds: float,
        feature_keys: Sequence[str] = (),
        max_frames: int | None = None,
        kinds: Mapping[str, Feature] | None = None,
    ) -> None:
        if not clips:
            raise ValueError("ClipSet needs at least one clip")
        self.clips, self.frame_rate, self.fps = list(clips), float(frame_rate), float(fps)
        self.feature_keys, self.kinds = list(feature_keys), dict(kinds or {})
        shortest = min(c.codes.shape[-1] for c in self.clips)
        crop = max(1, round(crop_seconds * self.frame_rate))
        self.crop_frames = min(crop, shortest, max_frames or crop)

    def __len__(self) -> int:
        return len(self.clips)

    def _code_start(self, video_frame: int) -> int:
        return round(video_frame * self.frame_rate / self.fps)

    def _start(self, clip: Clip, generator: torch.Generator | None) -> tuple[int, float]:
        """A crop's first codec frame and its time in seconds (on a video frame when features are read)."""
        length = clip.codes.shape[-1]
        if not self.feature_keys:
            top = length - self.crop_frames
            start = 0 if generator is None else int(torch.randint(0, top + 1, (1,), generator=generator))
            return start, start / self.frame_rate
        # latest video frame whose code start leaves a whole crop
        last = math.floor((length - self.crop_frames) * self.fps / self.frame_rate)
        while last > 0 and self._code_start(last) + self.crop_frames > length:
            last -= 1
        frame = 0 if generator is None else int(torch.randint(0, last + 1, (1,), generator=generator))
        return self._code_start(frame), frame / self.fps

    def _features(self, indices: Sequence[int], seconds: Sequence[float]) -> FeatureBatch | None:
        if not self.feature_keys:
            return None
        clips = [self.clips[i] for i in indices]
        whole = FeatureBatch.collate([c.features for c in clips], self.feature_keys, self.kinds)
        crops = whole.window(torch.tensor(seconds, dtype=torch.float64), self.crop_frames / self.frame_rate, self.fps)
        for key in self.feature_keys:
            if crops.kind(key).kind in TIMED:
                empty = (crops.mask(key).sum(-1) == 0).nonzero().flatten().tolist()
                if empty:
                    clip = clips[empty[0]]
                    raise UserError(f"{clip.stem}: its {key} is shorter than its music (nothing at "
                                    f"{seconds[empty[0]]:.2f} s)")
        return crops.for_training()

    def batch(
        self, indices: Sequence[int], generator: torch.Generator | None = None, paraphrase_prob: float = 0.0
    ) -> Batch:
        """Crops of the clips at `indices`: random crops and paraphrases when `generator` is given, else each
        clip's start with its prompt (validation)."""
        codes, latents, prompts, seconds = [], [], [], []
        for i in indices:
            clip = self.clips[i]
            start, second = self._start(clip, generator)
            crop = slice(start, start + self.crop_frames)
            codes.append(clip.codes[:, crop])
            seconds.append(second)
            if clip.latents is not None:
                latents.append(clip.latents[:, crop])
            prompt = clip.prompt
            if generator is not None and clip.paraphrases:
                roll = float(torch.rand(1, generator=generator))
                pick = int(torch.randint(0, len(clip.paraphrases), (1,), generator=generator))
                if roll < paraphrase_prob:
                    prompt = clip.paraphrases[pick]
            prompts.append(prompt)
        stems = [self.clips[i].stem for i in indices]
        stacked = torch.stack(latents) if len(latents) == len(codes) else None
        return Batch(torch.stack(codes), prompts, self._features(indices, seconds), stems, stacked)

    def sample(self, batch_size: int, generator: torch.Generator, paraphrase_prob: float = 0.0) -> Batch:
        """A random batch (clips drawn with replacement when the set is smaller than the batch)."""
        if batch_size <= len(self):
            indices = torch.randperm(len(self), generator=generator)[:batch_size].tolist()
        else:
            indices = torch.randint(0, len(self), (batch_size,), generator=generator).tolist()
        return self.batch(indices, generator, paraphrase_prob)

    def validation_batches(self, batch_size: int, limit: int) -> list[Batch]:
        """Up to `limit` fixed batches (clip starts, prompts) in clip order."""
        order = list(range(len(self)))
        chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)][: max(1, limit)]
        return [self.batch(chunk) for chunk in chunks]


# --- building clips from a prepared dataset --------------------------------------------------------------
_fingerprints: dict[int, str] = {}


def codec_fingerprint(backbone: Any) -> str:
    """A hash of the codec's weights and the codebooks used: part of the codes' cache key."""
    key = id(backbone.codec)
    if key not in _fingerprints:
        sha = hashlib.sha256(f"K={backbone.num_codebooks}".encode())
        for name, tensor in sorted(backbone.codec.state_dict().items()):
            sha.update(name.encode())
            sha.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        _fingerprints[key] = sha.hexdigest()
    return _fingerprints[key]


def music_codes(video: Any, backbone: Any, cache: Any) -> torch.Tensor:
    """Codes `(K, T)` of a clip's music (a same-stem audio file or the video's track), through `cache`."""
    return _music(video, backbone, cache, "codes")


def music_latents(video: Any, backbone: Any, cache: Any) -> torch.Tensor:
    """Continuous codec latents `(C, T)` of a clip's music (what Loc-DiT denoises), through `cache`."""
    return _music(video, backbone, cache, "latents")


def _music(video: Any, backbone: Any, cache: Any, kind: str) -> torch.Tensor:
    from toolkit.data.audio import load_music, music_hash

    content = music_hash(video)
    config = {"codec": codec_fingerprint(backbone), "sample_rate": backbone.sample_rate}

    def compute() -> dict[str, np.ndarray]:
        wave = load_music(video, backbone.sample_rate)
        if wave is None or len(wave) == 0:
            raise UserError(f"{video}: no music to train on (no audio track or same-stem audio file)")
        wave = torch.from_numpy(wave)[None].to(backbone.device)
        if kind == "latents":
            return {kind: backbone.encode_latents(wave)[0].float().cpu().numpy()}
        return {kind: backbone.encode_audio(wave)[0].cpu().numpy().astype(np.int64)}

    return torch.from_numpy(cache.get_or_compute(content, kind, config, compute)[kind])


def load_clips(
    items: Sequence[Any], backbone: Any, cfg: Any, keys: Sequence[str], progress: bool = False, latents: bool = False
):
    """`Clip`s for prepared dataset items (`toolkit.prepare`): codes, the features in `keys` (inputs and
    targets), prompts, and the codec latents when `latents`."""
    import sys

    from tqdm import tqdm

    from toolkit.prepare import feature_cache

    cache = feature_cache(cfg)
    clips = []
    for item in tqdm(items, desc="clips", unit="clip", disable=not progress, file=sys.stderr, leave=False):
        clips.append(
            Clip(
                stem=item.stem,
                codes=music_codes(item.video, backbone, cache),
                features=clip_features(item.video, cfg, keys, cache),
                prompt=item.prompt or "",
                paraphrases=tuple(item.paraphrases),
                latents=music_latents(item.video, backbone, cache) if latents else None,
            )
        )
    return clips
