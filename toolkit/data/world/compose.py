"""Composing one clip: per section, a chord progression, a melody, a bass line and a drum pattern on its grid.

Everything is placed on the sections' beat grids (`storyboard.py`), so beat, downbeat and cut times are known
exactly. The clip's key and emotion hold across sections; each section has its style's tempo and instruments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from toolkit.data.world.emotion import Emotion
from toolkit.data.world.storyboard import BEATS_PER_BAR, Cut, Section
from toolkit.data.world.styles import DRUM_PATTERNS, KEYS, Style

SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Progressions as scale degrees (0 = tonic), one chord per bar. Each leans on its tonic (I/i, IV/iv and V/v
# only), so a chroma key estimator hears the mode rather than the relative key.
PROGRESSIONS = {
    "major": ((0, 3, 4, 0), (0, 4, 0, 3), (0, 3, 0, 4), (0, 0, 3, 4)),
    "minor": ((0, 3, 4, 0), (0, 4, 0, 3), (0, 3, 0, 4), (0, 0, 3, 4)),
}
# How often a chord instrument strikes within a bar, in beats.
CHORD_RHYTHM = {"pad": (0,), "saw pad": (0,), "strings": (0,), "piano": (0, 2), "electric piano": (0, 2.5),
                "acoustic guitar": (0, 1, 2, 3)}
BASS_RHYTHM = {"synth bass": (0, 1, 2, 3), "upright bass": (0, 2), "cello": (0,)}
# Register (MIDI note around which the melody moves) per melody instrument.
MELODY_REGISTER = {"bell": 84, "piano": 72, "lead synth": 72, "violin": 76, "mandolin": 76,
                   "acoustic guitar": 67, "electric piano": 72}


@dataclass(frozen=True)
class Note:
    """One pitched note: `start` and `duration` in seconds (a start before its section is a sustain into it)."""

    instrument: str
    part: str  # chords | melody | bass: sets the mixing level
    start: float
    duration: float
    pitch: int  # MIDI
    velocity: float  # 0..1


@dataclass(frozen=True)
class Hit:
    """One drum hit."""

    drum: str  # kick | snare | hat
    time: float
    velocity: float


@dataclass
class Part:
    """The music of one section: it sounds only between the section's start and end."""

    section: Section
    instruments: list[str]
    notes: list[Note] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)


@dataclass
class Score:
    """A composed clip with its ground truth (times in seconds from the clip start)."""

    seconds: float
    key: str
    mode: str
    emotion: Emotion
    parts: list[Part]
    cuts: list[Cut]

    @property
    def main(self) -> Section:
        """The longest section: its style and tempo are the clip's."""
        return max((p.section for p in self.parts), key=lambda s: s.end - s.start)

    @property
    def style(self) -> Style:
        return self.main.style

    @property
    def tempo(self) -> int:
        return self.main.tempo

    @property
    def beats(self) -> list[float]:
        return _round(sorted(t for p in self.parts for t in p.section.beats()))

    @property
    def downbeats(self) -> list[float]:
        return _round(sorted(t for p in self.parts for t in p.section.downbeats()))

    def part_at(self, time: float) -> int:
        """Index of the part whose section holds `time` (the last one that starts at or before it)."""
        return max(i for i, p in enumerate(self.parts) if p.section.start <= time + 1e-9)

    @property
    def instruments(self) -> list[str]:
        pitched = sorted({i for p in self.parts for i in p.instruments if i != "drums"})
        return pitched + (["drums"] if any(p.section.style.drums for p in self.parts) else [])


def compose(sections: list[Section], cuts: list[Cut], seconds: float, emotion: Emotion,
            rng: np.random.Generator) -> Score:
    """Draw the key (the mode is the emotion's) and compose every section's music."""
    tonic = int(rng.integers(len(KEYS)))
    parts = [_compose_part(section, tonic, emotion, rng) for section in sections]
    return Score(seconds, KEYS[tonic], emotion.mode, emotion, parts, cuts)


def _compose_part(section: Section, tonic: int, emotion: Emotion, rng: np.random.Generator) -> Part:
    style = section.style
    mode = emotion.mode
    chord_instrument = style.chords[int(rng.integers(len(style.chords)))]
    melody_instrument = style.melody[int(rng.integers(len(style.melody)))]
    progression = PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]
    # Bars start one before the section, so sustained sounds already ring at its start.
    bar_start = section.bar_starts()
    period = section.period
    scale = SCALES[mode]
    notes, hits = [], []
    for b, start in bar_start.items():
        degree = progression[b % len(progression)]
        chord = [_scale_pitch(tonic, scale, degree + k) for k in (0, 2, 4)]
        notes += _chord_notes(chord_instrument, chord, start, period, rng)
        if style.bass:
            notes += _bass_notes(style.bass, chord[0], start, period)
        if style.drums:
            hits += _drum_hits(DRUM_PATTERNS[style.drums], start, period, rng)
    notes += _melody(melody_instrument, style, tonic, scale, progression, bar_start, period, emotion, rng)
    notes = [n for n in notes if n.start < section.end]
    hits = [h for h in hits if section.start <= h.time < section.end]
    return Part(section, sorted({n.instrument for n in notes}), notes, hits)


def _round(times: list[float]) -> list[float]:
    """Ground-truth times to the microsecond: exact enough, and stable in JSON."""
    return [round(t, 6) for t in times]


def _scale_pitch(tonic: int, scale: tuple[int, ...], degree: int, base: int = 48) -> int:
    """MIDI pitch of scale `degree` (may exceed the octave) counted from the tonic above `base`."""
    octave, step = divmod(degree, len(scale))
    return base + tonic + 12 * octave + scale[step]


def _chord_notes(instrument: str, chord: list[int], bar_start: float, period: float,
                 rng: np.random.Generator) -> list[Note]:
    """The bar's chord voiced around middle C, struck on the instrument's rhythm."""
    voiced = [p + 12 for p in chord]
    strikes = CHORD_RHYTHM[instrument]
    notes = []
    for i, beat in enumerate(strikes):
        end = strikes[i + 1] if i + 1 < len(strikes) else BEATS_PER_BAR
        velocity = 0.5 if beat else 0.6
        for k, pitch in enumerate(voiced):
            # A guitar strum spreads the strings by a few milliseconds; others strike together.
            spread = 0.012 * k if instrument == "acoustic guitar" else 0.0
            notes.append(Note(instrument, "chords", bar_start + beat * period + spread, (end - beat) * period,
                              pitch, velocity * float(rng.uniform(0.9, 1.0))))
    return notes


def _bass_notes(instrument: str, root: int, bar_start: float, period: float) -> list[Note]:
    """The chord root an octave down, on the bass instrument's rhythm."""
    strikes = BASS_RHYTHM[instrument]
    ends = [*strikes[1:], BEATS_PER_BAR]
    return [Note(instrument, "bass", bar_start + beat * period, (end - beat) * period * 0.9, root - 12, 0.7)
            for beat, end in zip(strikes, ends, strict=True)]


def _drum_hits(pattern: dict[str, tuple[int, ...]], bar_start: float, period: float,
               rng: np.random.Generator) -> list[Hit]:
    """One bar of the drum pattern (positions in sixteenth notes)."""
    hits = []
    for drum, positions in pattern.items():
        for pos in positions:
            accent = 1.0 if pos % 4 == 0 else 0.75
            hits.append(Hit(drum, bar_start + pos * period / 4, accent * float(rng.uniform(0.85, 1.0))))
    return hits


def _melody(instrument: str, style: Style, tonic: int, scale: tuple[int, ...], progression: tuple[int, ...],
            bar_start: dict[int, float], period: float, emotion: Emotion, rng: np.random.Generator) -> list[Note]:
    """A random walk over the scale, landing on chord tones on strong beats, with rests; how dense it is
    follows the clip's arousal."""
    register = MELODY_REGISTER[instrument]
    base = 12 * ((register - 12) // 12)  # the C an octave or so below the register
    degree = 7 + int(rng.integers(-2, 3))
    step = min(style.melody_step * emotion.melody_subdivision, float(BEATS_PER_BAR))
    notes = []
    for b, start in sorted(bar_start.items()):
        chord_degrees = {(progression[b % len(progression)] + k) % len(scale) for k in (0, 2, 4)}
        for i in range(int(BEATS_PER_BAR / step)):
            beat = i * step
            if rng.random() < emotion.melody_rest and beat != 0:
                continue
            degree += int(rng.choice((-2, -1, -1, 0, 1, 1, 2)))
            degree = min(max(degree, 3), 13)
            if beat % 2 == 0:  # strong beat: move to the nearest chord tone
                while degree % len(scale) not in chord_degrees:
                    degree += 1
            notes.append(Note(instrument, "melody", start + beat * period, step * period * 0.95,
                              _scale_pitch(tonic, scale, degree, base), float(rng.uniform(0.6, 0.8))))
    return notes
