"""Text → music of a given duration with a frozen backbone; long pieces are made of overlapping windows.

A window holds at most what the decoder's positions allow (and `window_seconds`). Each later window is
continued from the previous window's last `overlap_seconds` of codes (teacher-forced as a prompt), so the
music carries on rather than restarting; windows are decoded separately and linearly crossfaded over the
overlap, which hides the codec decoder's edge effects at window starts.

With trained adapters (`attached`, an `AttachedModel`) the music also follows the video: each window reads the
features of its own time span (each re-timed by its kind, so feature step 0 is the window's first decoder
step), and guidance contrasts the prompt+video rows with rows that have neither. Each window is sampled and
decoded by the model's head (token by token, or plan-and-refine patch by patch). Only the conditioners' inputs
reach generation: music-derived targets are withheld, and reading one raises.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import Any

import torch

from toolkit.features.batch import FeatureBatch, as_batch
from toolkit.heads.tokens import TokenHead


def plan_windows(total_frames: int, window_frames: int, overlap_frames: int) -> list[tuple[int, int]]:
    """`(start, end)` frame spans covering `[0, total_frames)`; consecutive spans share `overlap_frames`."""
    if window_frames <= overlap_frames:
        raise ValueError(
            f"window ({window_frames} frames) must be longer than its overlap ({overlap_frames})"
        )
    spans = [(0, min(window_frames, total_frames))]
    while spans[-1][1] < total_frames:
        start = spans[-1][1] - overlap_frames
        spans.append((start, min(start + window_frames, total_frames)))
    return spans


def crossfade_into(out: torch.Tensor, piece: torch.Tensor, start: int, fade: int) -> None:
    """Add `piece` (B,n) into `out` at sample `start`, ramping linearly over its first `fade` samples."""
    end = min(start + piece.shape[-1], out.shape[-1])
    piece = piece[:, : end - start]
    if fade > 0:
        ramp = torch.linspace(0.0, 1.0, fade + 2, dtype=out.dtype)[1:-1]
        out[:, start : start + fade] *= 1 - ramp
        piece = piece.clone()
        piece[:, :fade] *= ramp
        out[:, start + fade : end] = 0
    out[:, start:end] += piece


def window_features(features: Mapping[str, Any], start_seconds: float, seconds: float, fps: float) -> FeatureBatch:
    """Batched features re-timed to start at `start_seconds`, covering `seconds` (plus one step): what
    conditioners read for a window that starts there (`FeatureBatch.window`). Steps past the video are masked."""
    return as_batch(features).window(start_seconds, seconds, fps)


@torch.no_grad()
def generate_music(
    backbone,
    prompts: list[str],
    seconds: float,
    *,
    guidance: float = 3.0,
    temperature: float = 1.0,
    top_k: int = 250,
    seed: int = 0,
    window_seconds: float = 8.0,
    overlap_seconds: float = 2.0,
    progress: bool = False,
    attached: Any = None,
    features: Mapping[str, Any] | None = None,
    fps: float | None = None,
) -> torch.Tensor:
    """Music `(B, round(seconds·sample_rate))` for each prompt (an empty prompt means unconditional).

    `attached`: trained adapters and head on `backbone` (None: the frozen backbone's own token sampler);
    `features`: the videos' batched features (`features.read.video_inputs`) at `fps`, one row per prompt, holding the
    conditioners' inputs."""
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    head = attached.head if attached is not None else TokenHead(backbone)
    rate = backbone.frame_rate
    total = math.ceil(seconds * rate)
    window = max(2, min(int(window_seconds * rate), backbone.max_frames - head.reserved_frames))
    overlap = min(round(overlap_seconds * rate), window // 2)
    spans = plan_windows(total, window, overlap)
    generator = torch.Generator().manual_seed(seed)
    memory, mask = backbone.encode_text(list(prompts))
    if not any(prompts) and not features:  # no condition: guidance would mix identical rows, at twice the cost
        guidance = 1.0
    guided = guidance is not None and guidance != 1.0
    if features and (attached is None or not fps):
        raise ValueError("video features need the attached adapters and their fps")
    if features:  # only the conditioners' inputs travel on; their targets are withheld
        inputs = attached.input_keys
        features = as_batch(features).select(inputs, withheld=attached.target_keys) if inputs else None
    hop = round(backbone.sample_rate / rate)
    audio = torch.zeros(len(prompts), total * hop)
    previous: dict[str, torch.Tensor] | None = None
    bar = None
    if progress and len(spans) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(spans), desc="windows", unit="window")
    for start, end in spans:
        prompt = None if previous is None else {k: v[..., -overlap:] for k, v in previous.items()}
        conditioned = contextlib.nullcontext()
        if attached is not None:
            video = window_features(features, start / rate, (end - start) / rate, fps) if features else None
            if video is not None and guided:
                video = video.with_null_rows()
            conditioned = attached.conditioned(video)
        with conditioned:
            sampled = head.sample(
                attached, memory, mask, end - start, guidance=guidance, generator=generator, prompt=prompt,
                progress=progress and bar is None, temperature=temperature, top_k=top_k,
            )
        wave = head.decode(sampled).float().cpu()
        crossfade_into(audio, wave, start * hop, 0 if previous is None else overlap * hop)
        previous = sampled
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return audio[:, : round(seconds * backbone.sample_rate)]
