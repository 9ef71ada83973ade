"""Text → music of a given duration with a frozen backbone; long pieces are made of overlapping windows.

A window holds at most what the decoder's positions allow (and `window_seconds`). Each later window is
continued from the previous window's last `overlap_seconds` of codes (teacher-forced as a prompt), so the
music carries on rather than restarting; windows are decoded separately and linearly crossfaded over the
overlap, which hides the codec decoder's edge effects at window starts.

With trained adapters (`attached`, an `AttachedModel`) the music also follows the video: each window reads the
video features of its own time span (resampled so feature frame 0 is the window's first decoder step), and
guidance contrasts the prompt+video rows with rows that have neither. With a plan-and-refine head attached
(`planner.enabled`), each window is sampled patch by patch (`toolkit.planning.sampling`) and its continuous
latents are decoded; `temperature` and `top_k` then do not apply.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import Any

import torch

from toolkit.backbone.sampling import sample_codes


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


def window_features(features: Mapping[str, Any], start_seconds: float, seconds: float, fps: float) -> dict:
    """Batched video features `(B, T, ...)` at `fps` re-timed to start at `start_seconds`, covering `seconds`
    (plus one frame): what conditioners read for a window that starts there. Frames past the video are masked."""
    from toolkit.conditioners.batch import MASK, video_mask
    from toolkit.conditioners.resample import frame_positions, hold_last, resample_mask, resample_time

    def first(tree: Mapping[str, Any]) -> torch.Tensor:
        for key, value in tree.items():
            if key != MASK:
                return first(value) if isinstance(value, Mapping) else torch.as_tensor(value)
        raise ValueError("features: empty batch")

    head = first(features)
    mask = video_mask(features, head.shape[0], head.shape[1])
    count = math.ceil(seconds * fps) + 1
    positions = start_seconds * fps + frame_positions(count, fps, fps)

    def retime(tree: Mapping[str, Any]) -> dict:
        return {
            k: retime(v) if isinstance(v, Mapping) else resample_time(hold_last(torch.as_tensor(v).float(), mask),
                                                                     positions)
            for k, v in tree.items()
            if k != MASK
        }

    return {**retime(features), MASK: resample_mask(mask, positions)}


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

    `attached`: trained adapters on `backbone`; `features`: the videos' batched features (`collate_features`)
    at `fps`, one row per prompt, for the conditioners that read video."""
    from toolkit.conditioners.batch import stack_with_null_video
    from toolkit.planning.sampling import sample_patches

    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    rate = backbone.frame_rate
    total = math.ceil(seconds * rate)
    head = attached.plan_head if attached is not None else None
    # the planner reads a start patch before the window's frames, so its positions run a patch further
    longest = backbone.max_frames - (head.patch_size if head is not None else 0)
    window = max(2, min(int(window_seconds * rate), longest))
    overlap = min(round(overlap_seconds * rate), window // 2)
    spans = plan_windows(total, window, overlap)
    generator = torch.Generator().manual_seed(seed)
    memory, mask = backbone.encode_text(list(prompts))
    if not any(prompts) and not features:  # no condition: guidance would mix identical rows, at twice the cost
        guidance = 1.0
    guided = guidance is not None and guidance != 1.0
    if features and (attached is None or not fps):
        raise ValueError("video features need the attached adapters and their fps")
    hop = round(backbone.sample_rate / rate)
    audio = torch.zeros(len(prompts), total * hop)
    previous = previous_latents = None
    bar = None
    if progress and len(spans) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(spans), desc="windows", unit="window")
    for start, end in spans:
        prompt = None if previous is None else previous[:, :, -overlap:]
        conditioned = contextlib.nullcontext()
        if attached is not None:
            video = window_features(features, start / rate, (end - start) / rate, fps) if features else None
            if video is not None and guided:
                video = stack_with_null_video(video)
            conditioned = attached.conditioned(video)
        with conditioned:
            if head is not None:  # plan-and-refine: patches of continuous latents, decoded as such
                codes, previous_latents = sample_patches(
                    head, memory, mask, end - start, guidance=guidance, generator=generator, prompt_codes=prompt,
                    prompt_latents=None if prompt is None else previous_latents[..., -overlap:],
                    progress=progress and bar is None,
                )
            else:
                codes = sample_codes(
                    backbone.model,
                    memory,
                    mask,
                    end - start,
                    prompt_codes=prompt,
                    guidance=guidance,
                    temperature=temperature,
                    top_k=top_k,
                    generator=generator,
                    progress=progress and bar is None,
                )
        if head is not None:
            wave = backbone.decode_latents(previous_latents).float().cpu()
        else:
            wave = backbone.decode_codes(codes).float().cpu()
        crossfade_into(audio, wave, start * hop, 0 if previous is None else overlap * hop)
        previous = codes
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return audio[:, : round(seconds * backbone.sample_rate)]
