"""Rendering a clip's video from its score.

What is on screen (palette, shape, texture) carries the style of the section being shown; shapes pulse and the
frame flashes on every beat, more on downbeats (the rhythm signal); at every cut the shot changes hard: a new
background, texture and shape layout (the storyboard signal). The clip's emotion grades the colours
(valence: saturation and brightness) and sets how fast the shapes drift (arousal).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from toolkit.data.world.compose import Score
from toolkit.data.world.emotion import Emotion
from toolkit.data.world.storyboard import Cut
from toolkit.data.world.styles import Style

PULSE_DECAY = 0.12  # seconds: how fast a beat flash fades
BACKGROUND_FLASH = 6.0  # grey levels added to the background on a downbeat: visible, far below a cut


@dataclass(frozen=True)
class Shot:
    """One shot: its time span and the layout drawn through it."""

    start: float
    end: float
    shape: str  # the style's: circle | square | triangle | band | blob | ring
    background: np.ndarray  # (H, W, 3) float: colour plus texture
    centres: np.ndarray  # (n, 2) x, y at the shot start
    velocities: np.ndarray  # (n, 2) pixels per second
    radii: np.ndarray  # (n,)
    colours: np.ndarray  # (n, 3)


def visible_cuts(score: Score, fps: float) -> list[Cut]:
    """The planned cuts that fall on a frame of the clip: a cut at c shows from frame ceil(c * fps) on."""
    n_frames = frame_count(score.seconds, fps)
    return [c for c in score.cuts if first_frame_at(c.time, fps) < n_frames]


def frame_count(seconds: float, fps: float) -> int:
    return int(round(seconds * fps))


def first_frame_at(time: float, fps: float) -> int:
    """Index of the first frame shown at or after `time` (frame i is shown at i / fps)."""
    return math.ceil(time * fps - 1e-9)


def render_video(score: Score, fps: float, size: int, rng: np.random.Generator) -> tuple[np.ndarray, list[Cut]]:
    """Frames (T, size, size, 3) uint8 of `score` and the cuts they contain."""
    cuts = visible_cuts(score, fps)
    bounds = [0.0, *(c.time for c in cuts), score.seconds]
    shots, previous = [], (None, -1)
    for start, end in itertools.pairwise(bounds):
        style = score.parts[score.part_at(start)].section.style
        choices = [i for i in range(len(style.backgrounds)) if (style.name, i) != previous]
        background = int(rng.choice(choices))
        shots.append(_layout(style, score.emotion, start, end, background, size, rng))
        previous = (style.name, background)
    beat_weight = {t: 0.6 for t in score.beats} | {t: 1.0 for t in score.downbeats}
    beat_times = np.array(sorted(beat_weight))
    weights = np.array([beat_weight[t] for t in beat_times])

    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    frames = np.empty((frame_count(score.seconds, fps), size, size, 3), dtype=np.uint8)
    shot = 0
    for i in range(len(frames)):
        t = i / fps
        while shot + 1 < len(shots) and t >= shots[shot + 1].start - 1e-9:
            shot += 1
        frames[i] = _draw(shots[shot], t, _pulse(t, beat_times, weights), xx, yy)
    return frames, cuts


def _pulse(t: float, beat_times: np.ndarray, weights: np.ndarray) -> float:
    """Strength of the latest beat's flash at time t (0 before the first beat)."""
    past = beat_times <= t + 1e-9
    if not past.any():
        return 0.0
    last = np.flatnonzero(past)[-1]
    return float(weights[last] * np.exp(-(t - beat_times[last]) / PULSE_DECAY))


def _layout(style: Style, emotion: Emotion, start: float, end: float, background: int, size: int,
            rng: np.random.Generator) -> Shot:
    n = int(rng.integers(3, 6))
    angles = rng.uniform(0, 2 * np.pi, n)
    colours = np.array(style.accents, dtype=np.float32)[rng.integers(len(style.accents), size=n)]
    base = emotion.grade(np.array(style.backgrounds[background], np.float32))
    speed = style.motion * emotion.motion
    return Shot(
        start=start,
        end=end,
        shape=style.shape,
        background=_texture(style.texture, base, size, rng),
        centres=rng.uniform(0.1 * size, 0.9 * size, (n, 2)).astype(np.float32),
        velocities=(speed * np.stack([np.cos(angles), np.sin(angles)], 1)).astype(np.float32),
        radii=rng.uniform(0.08 * size, 0.16 * size, n).astype(np.float32),
        colours=emotion.grade(colours),
    )


def _texture(kind: str, colour: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """The style's background texture over `colour`, with a fresh random phase per shot."""
    y = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None] * np.ones((1, size), np.float32)
    x = y.T
    phase = float(rng.uniform(0, 2 * np.pi))
    if kind == "gradient":
        shade = 24 * (y - 0.5) * math.cos(phase)
    elif kind == "vignette":
        shade = -40 * ((x - 0.5) ** 2 + (y - 0.5) ** 2)
    elif kind == "grid":
        step = size // 8
        offset = int(rng.integers(step))
        lines = ((np.arange(size) + offset) % step == 0).astype(np.float32)
        shade = 40 * np.maximum(lines[None, :], lines[:, None])
    elif kind == "stripes":
        shade = 12 * np.sin(2 * np.pi * float(rng.uniform(4, 8)) * y + phase)
    elif kind == "grain":
        shade = rng.normal(0, 8, (size, size)).astype(np.float32)
    elif kind == "scanlines":
        shade = -14 * ((np.arange(size) % 2)[:, None] * np.ones((1, size), np.float32))
    else:
        raise ValueError(f"unknown texture {kind!r}")
    return np.clip(colour[None, None, :] + shade[..., None], 0, 255)


def _draw(shot: Shot, t: float, pulse: float, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    size = xx.shape[0]
    frame = shot.background + np.float32(BACKGROUND_FLASH * pulse)
    centres = (shot.centres + shot.velocities * (t - shot.start)) % size
    for (cx, cy), radius, colour in zip(centres, shot.radii, shot.colours, strict=True):
        r = radius * (1 + 0.35 * pulse)
        # Only the shape's bounding box is touched (a band reaches 2.2 r sideways, a blob fades by 2 r).
        reach = 2.3 * r
        rows = slice(max(int(cy - reach), 0), min(int(cy + reach) + 1, size))
        cols = slice(max(int(cx - reach), 0), min(int(cx + reach) + 1, size))
        alpha = _mask(shot.shape, xx[rows, cols] - cx, yy[rows, cols] - cy, r)[..., None]
        lit = colour + (255 - colour) * np.float32(0.5 * pulse)
        frame[rows, cols] = frame[rows, cols] * (1 - alpha) + lit * alpha
    return np.clip(frame, 0, 255).astype(np.uint8)


def _mask(shape: str, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
    """Coverage in [0, 1] of `shape` of radius r centred at the origin of (dx, dy)."""
    if shape == "circle":
        return (dx * dx + dy * dy < r * r).astype(np.float32)
    if shape == "blob":  # soft-edged disc
        return np.exp(-(dx * dx + dy * dy) / (0.5 * r * r)).astype(np.float32)
    if shape == "square":
        return ((np.abs(dx) < r * 0.8) & (np.abs(dy) < r * 0.8)).astype(np.float32)
    if shape == "triangle":  # pointing up
        return ((dy > -r) & (dy < r) & (np.abs(dx) < (dy + r) * 0.55)).astype(np.float32)
    if shape == "band":
        return ((np.abs(dy) < r * 0.3) & (np.abs(dx) < r * 2.2)).astype(np.float32)
    if shape == "ring":
        d2 = dx * dx + dy * dy
        return ((d2 < r * r) & (d2 > (0.6 * r) ** 2)).astype(np.float32)
    raise ValueError(f"unknown shape {shape!r}")
