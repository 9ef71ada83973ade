"""Making one clip of the world: compose, synthesise, render, write files, return its manifest record."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from toolkit.data.mp4 import write_mp4
from toolkit.data.world.compose import Score, compose
from toolkit.data.world.emotion import draw_emotion
from toolkit.data.world.prompts import make_prompts
from toolkit.data.world.render import render_video
from toolkit.data.world.storyboard import Cut, StoryboardOptions, plan_clip
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
    storyboard: StoryboardOptions = StoryboardOptions()


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
    emotion = draw_emotion(rng)
    sections, cuts = plan_clip(STYLE_TABLE[style_of(job.seed, job.index)], job.seconds, rng, job.storyboard)
    score = compose(sections, cuts, job.seconds, emotion, rng)
    audio = render_audio(score, job.sample_rate, rng)
    frames, cuts = render_video(score, job.fps, job.size, rng)
    labels = [p.section.style.label for p in score.parts]
    prompt, paraphrases, captions = make_prompts(labels, [p.section.tempo for p in score.parts], score.key,
                                                 score.mode, emotion.moods, score.instruments, rng)
    name = clip_id(job.index)
    clips = job.out / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    sf.write(clips / f"{name}.wav", audio, job.sample_rate, subtype="PCM_16")
    write_mp4(clips / f"{name}.mp4", frames, job.fps, audio=audio, sample_rate=job.sample_rate)
    return {
        "id": name,
        "video": f"clips/{name}.mp4",
        "audio": f"clips/{name}.wav",
        "seconds": job.seconds,
        "style": score.style.name,
        "tempo": score.tempo,
        "key": score.key,
        "mode": score.mode,
        **emotion.as_record(),
        "instruments": score.instruments,
        "drums": any(p.section.style.drums for p in score.parts),
        "beats": score.beats,
        "downbeats": score.downbeats,
        "cuts": [c.time for c in cuts],
        "cuts_on_beat": [c.on_beat for c in cuts],
        "storyboard": len(score.parts) > 1,
        "shots": _shots(score, cuts, job.seconds, captions),
        "prompt": prompt,
        "paraphrases": paraphrases,
    }


def _shots(score: Score, cuts: list[Cut], seconds: float, captions: list[str]) -> list[dict]:
    """Per shot: start, duration, and the style, tempo and caption of the section it shows."""
    bounds = [0.0, *(c.time for c in cuts), round(seconds, 6)]
    shots = []
    for start, end in itertools.pairwise(bounds):
        k = score.part_at(start)
        section = score.parts[k].section
        shots.append({"start": start, "duration": round(end - start, 6), "style": section.style.name,
                      "tempo": section.tempo, "caption": captions[k]})
    return shots
