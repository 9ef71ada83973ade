"""Making one clip of the world: compose, synthesise, render, write files, return its manifest record."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from toolkit.data.mp4 import write_mp4
from toolkit.data.world.compose import compose
from toolkit.data.world.prompts import make_prompts
from toolkit.data.world.render import render_video
from toolkit.data.world.styles import STYLE_TABLE, STYLES
from toolkit.data.world.synth import render_audio


@dataclass(frozen=True)
class ClipJob:
    """Everything a worker needs to make clip `index` (picklable, so it crosses process boundaries)."""

    out: Path
    index: int
    seed: int
    seconds: float
    fps: float
    sample_rate: int
    size: int


def clip_id(index: int) -> str:
    return f"clip_{index:05d}"


def style_of(seed: int, index: int) -> str:
    """Styles come in shuffled rounds of all styles: balanced at any size, known without making the clip."""
    rounds, position = divmod(index, len(STYLES))
    order = np.random.default_rng([seed, rounds, 1]).permutation(len(STYLES))
    return STYLES[int(order[position])]


def make_clip(job: ClipJob) -> dict:
    """Write `clips/<id>.wav` and `clips/<id>.mp4` under `job.out`; return the clip's manifest record."""
    # Seeded from (seed, index) alone, so the number of workers and the order of work never change a clip.
    rng = np.random.default_rng([job.seed, job.index, 0])
    style = STYLE_TABLE[style_of(job.seed, job.index)]
    score = compose(style, job.seconds, rng)
    audio = render_audio(score, job.sample_rate, rng)
    frames, cuts = render_video(score, job.fps, job.size, rng)
    prompt, paraphrases = make_prompts(style.label, style.moods, score.tempo, score.key, score.mode,
                                       score.instruments, rng)
    name = clip_id(job.index)
    clips = job.out / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    sf.write(clips / f"{name}.wav", audio, job.sample_rate, subtype="PCM_16")
    write_mp4(clips / f"{name}.mp4", frames, job.fps, audio=audio, sample_rate=job.sample_rate)
    bounds = [0.0, *cuts, round(job.seconds, 6)]
    return {
        "id": name,
        "video": f"clips/{name}.mp4",
        "audio": f"clips/{name}.wav",
        "seconds": job.seconds,
        "style": style.name,
        "tempo": score.tempo,
        "key": score.key,
        "mode": score.mode,
        "instruments": score.instruments,
        "drums": style.drums is not None,
        "beats": score.beats,
        "downbeats": score.downbeats,
        "cuts": cuts,
        "shots": [[a, b] for a, b in itertools.pairwise(bounds)],
        "prompt": prompt,
        "paraphrases": paraphrases,
    }
