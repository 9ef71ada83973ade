"""Planning a clip's sections (one style each, on its own beat grid) and where the video cuts.

A plain clip is one section, cut on its phrase boundaries. A storyboard clip has two or three sections whose
style changes at each cut, every one at least `min_shot` seconds long; the music changes with the picture.
Either way a share of cuts falls off the beat (between two beats, at least 30 % of a beat from either), so a
cut and a cut on a beat are different things. Everything here is decided before any note is composed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from toolkit.data.world.styles import STYLE_TABLE, STYLES, Style

BEATS_PER_BAR = 4
OFF_BEAT = (0.3, 0.7)  # where between two beats an off-beat cut falls, as a fraction of the beat


@dataclass(frozen=True)
class Section:
    """One style's stretch of the clip, `start`..`end` seconds, on the beat grid its fields define: beat j sits
    at start + phase + j * period and is a downbeat when (j + bar_position) % 4 == 0."""

    style: Style
    start: float
    end: float
    tempo: int
    phase: float
    bar_position: int
    phrase_offset: int

    @property
    def period(self) -> float:
        return 60.0 / self.tempo

    def bar_starts(self) -> dict[int, float]:
        """Bar index → start time, from one bar before the section to the bar that holds its end."""
        last = math.ceil(((self.end - self.start) / self.period + self.bar_position) / BEATS_PER_BAR)
        first_beat = self.start + self.phase
        return {b: first_beat + (b * BEATS_PER_BAR - self.bar_position) * self.period for b in range(-1, last + 1)}

    def beats(self) -> list[float]:
        n = math.ceil((self.end - self.start - self.phase) / self.period)
        return [t for j in range(max(n, 0)) if (t := self.start + self.phase + j * self.period) < self.end]

    def downbeats(self) -> list[float]:
        return [t for t in self.bar_starts().values() if self.start <= t < self.end]

    def phrases(self) -> list[float]:
        """Phrase boundaries strictly inside the section."""
        every = self.style.bars_per_phrase
        return [t for b, t in self.bar_starts().items()
                if self.start < t < self.end and (b + self.phrase_offset) % every == 0]


@dataclass(frozen=True)
class Cut:
    """A video cut at `time` seconds; `on_beat` when it coincides with a beat of the music."""

    time: float
    on_beat: bool


@dataclass(frozen=True)
class StoryboardOptions:
    """How often clips are storyboards and cuts fall off the beat; the shortest storyboard shot."""

    storyboards: float = 0.35  # share of clips with two or three styled shots
    offbeat_cuts: float = 0.3  # share of cuts between beats
    min_shot: float = 2.0  # seconds: the style classifier's window, so every shot's style can be measured

    def fits(self, seconds: float, shots: int) -> bool:
        """Whether `shots` shots of at least `min_shot` fit in a clip, with a beat of slack per cut."""
        return seconds >= shots * self.min_shot + (shots - 1) * 1.0


def plan_clip(first: Style, seconds: float, rng: np.random.Generator,
              options: StoryboardOptions) -> tuple[list[Section], list[Cut]]:
    """The sections of a clip whose first style is `first`, and its cuts."""
    opening = _opening(first, seconds, rng)
    if rng.random() < options.storyboards and options.fits(seconds, 2):
        return _storyboard(opening, seconds, rng, options)
    return [opening], _phrase_cuts(opening, rng, options.offbeat_cuts)


def _opening(style: Style, seconds: float, rng: np.random.Generator) -> Section:
    """The first section starts at a random point of its music: first beat 50 ms .. one beat in, anywhere in a
    bar and in a phrase."""
    tempo = _tempo(style, rng)
    return Section(style, 0.0, seconds, tempo, 0.05 + float(rng.uniform(0.0, 60.0 / tempo)),
                   int(rng.integers(BEATS_PER_BAR)), int(rng.integers(style.bars_per_phrase)))


def _tempo(style: Style, rng: np.random.Generator) -> int:
    return int(rng.integers(style.tempo[0], style.tempo[1] + 1))


def _phrase_cuts(section: Section, rng: np.random.Generator, offbeat: float) -> list[Cut]:
    """A plain clip cuts on every phrase boundary, a share of them moved off the beat."""
    cuts = []
    for t in section.phrases():
        if rng.random() < offbeat:
            moved = t + float(rng.uniform(*OFF_BEAT)) * section.period
            if moved < section.end:
                cuts.append(Cut(round(moved, 6), False))
                continue
        cuts.append(Cut(round(t, 6), True))
    return cuts


def _storyboard(opening: Section, seconds: float, rng: np.random.Generator,
                options: StoryboardOptions) -> tuple[list[Section], list[Cut]]:
    shots = 3 if rng.random() < 0.5 and options.fits(seconds, 3) else 2
    sections, cuts, used = [opening], [], [opening.style.name]
    for k in range(shots - 1):
        current = sections[-1]
        on_beat = bool(rng.random() >= options.offbeat_cuts)
        latest = seconds - options.min_shot * (shots - 1 - k)
        # Not the last cut: take an early one, so the shots after it still fit.
        time = _cut_time(current, on_beat, current.start + options.min_shot, latest, rng, early=k < shots - 2)
        if time is None:  # no beat of this tempo lands in the window: the clip keeps fewer shots
            break
        style = STYLE_TABLE[str(rng.choice([s for s in STYLES if s not in used]))]
        # The next style's music opens on its downbeat at the cut, or between beats for an off-beat cut.
        fraction = 0.0 if on_beat else float(rng.uniform(*OFF_BEAT))
        tempo = _tempo(style, rng)
        following = Section(style, time, seconds, tempo, fraction * 60.0 / tempo, 0, 0)
        sections[-1] = replace(current, end=time)
        sections.append(following)
        cuts.append(Cut(time, on_beat))
        used.append(style.name)
    return sections, cuts


def _cut_time(section: Section, on_beat: bool, earliest: float, latest: float, rng: np.random.Generator,
              early: bool) -> float | None:
    """A cut time in [earliest, latest] on one of `section`'s beats, or between two of them (`early`: among
    the first half of the candidates)."""
    offset = 0.0 if on_beat else float(rng.uniform(*OFF_BEAT)) * section.period
    candidates = [round(b + offset, 6) for b in section.beats() if earliest <= b + offset <= latest]
    if early:
        candidates = candidates[: max(1, len(candidates) // 2)]
    return float(rng.choice(candidates)) if candidates else None
