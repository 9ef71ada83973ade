"""Composing one clip: a beat grid, a chord progression, a melody, a bass line and a drum pattern.

Everything is placed on the beat grid, so beat, downbeat and phrase times are known exactly; the video is
later cut on phrase boundaries, which makes cut and shot times exact too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from toolkit.data.world.styles import DRUM_PATTERNS, KEYS, MODES, Style

SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Progressions as scale degrees (0 = tonic), one chord per bar.
PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 3, 4, 3), (5, 3, 0, 4), (0, 5, 3, 4), (0, 3, 0, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 5, 3, 4)),
}
# How often a chord instrument strikes within a bar, in beats.
CHORD_RHYTHM = {"pad": (0,), "saw pad": (0,), "strings": (0,), "piano": (0, 2), "electric piano": (0, 2.5),
                "acoustic guitar": (0, 1, 2, 3)}
BASS_RHYTHM = {"synth bass": (0, 1, 2, 3), "upright bass": (0, 2), "cello": (0,)}
# Register (MIDI note around which the melody moves) per melody instrument.
MELODY_REGISTER = {"bell": 84, "piano": 72, "lead synth": 72, "violin": 76, "mandolin": 76,
                   "acoustic guitar": 67, "electric piano": 72}
BEATS_PER_BAR = 4


@dataclass(frozen=True)
class Note:
    """One pitched note: `start` and `duration` in seconds (a negative start began before the clip)."""

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
class Score:
    """A composed clip with its ground truth (times in seconds from the clip start)."""

    style: Style
    seconds: float
    tempo: int
    key: str
    mode: str
    instruments: list[str]
    beats: list[float]
    downbeats: list[float]
    phrases: list[float]  # phrase boundaries inside the clip: where the video cuts
    notes: list[Note] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)


def compose(style: Style, seconds: float, rng: np.random.Generator) -> Score:
    """Draw tempo, key and instruments for `style` and compose `seconds` of music on a beat grid."""
    tempo = int(rng.integers(style.tempo[0], style.tempo[1] + 1))
    tonic = int(rng.integers(len(KEYS)))
    mode = MODES[int(rng.integers(len(MODES)))]
    chord_instrument = style.chords[int(rng.integers(len(style.chords)))]
    melody_instrument = style.melody[int(rng.integers(len(style.melody)))]
    period = 60.0 / tempo
    # The clip starts at a random point of the music: first beat 50 ms .. one beat in, anywhere in the bar.
    phase = 0.05 + float(rng.uniform(0.0, period))
    bar_position = int(rng.integers(BEATS_PER_BAR))  # position in its bar of the first beat in the clip
    phrase_offset = int(rng.integers(style.bars_per_phrase))
    progression = PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]

    # Beat j (j = 0 is the first beat inside the clip) sits at phase + j * period; bars start where
    # (j + bar_position) % 4 == 0. Start one bar early so sustained sounds are already playing at t = 0.
    first_bar = -1
    last_bar = math.ceil((seconds / period + bar_position) / BEATS_PER_BAR)
    bar_start = {b: phase + (b * BEATS_PER_BAR - bar_position) * period
                 for b in range(first_bar, last_bar + 1)}

    n_beats = math.ceil((seconds - phase) / period)
    beats = [phase + j * period for j in range(n_beats) if phase + j * period < seconds]
    downbeats = [t for b, t in bar_start.items() if 0 <= t < seconds]
    phrases = [t for b, t in bar_start.items()
               if 0 < t < seconds and (b + phrase_offset) % style.bars_per_phrase == 0]

    score = Score(style, seconds, tempo, KEYS[tonic], mode, [], _round(beats), _round(downbeats),
                  _round(phrases))
    scale = SCALES[mode]
    for b, start in bar_start.items():
        degree = progression[b % len(progression)]
        chord = [_scale_pitch(tonic, scale, degree + k) for k in (0, 2, 4)]
        score.notes += _chord_notes(chord_instrument, chord, start, period, rng)
        if style.bass:
            score.notes += _bass_notes(style.bass, chord[0], start, period)
        if style.drums:
            score.hits += _drum_hits(DRUM_PATTERNS[style.drums], start, period, rng)
    score.notes += _melody(melody_instrument, style, tonic, scale, progression, bar_start, period, rng)
    score.notes = [n for n in score.notes if n.start < seconds]
    score.hits = [h for h in score.hits if 0 <= h.time < seconds]
    score.instruments = sorted({n.instrument for n in score.notes})
    if style.drums:
        score.instruments.append("drums")
    return score


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
            bar_start: dict[int, float], period: float, rng: np.random.Generator) -> list[Note]:
    """A random walk over the scale, landing on chord tones on strong beats, with occasional rests."""
    register = MELODY_REGISTER[instrument]
    base = 12 * ((register - 12) // 12)  # the C an octave or so below the register
    degree = 7 + int(rng.integers(-2, 3))
    step = style.melody_step
    notes = []
    for b, start in sorted(bar_start.items()):
        chord_degrees = {(progression[b % len(progression)] + k) % len(scale) for k in (0, 2, 4)}
        for i in range(int(BEATS_PER_BAR / step)):
            beat = i * step
            if rng.random() < 0.2 and beat != 0:
                continue
            degree += int(rng.choice((-2, -1, -1, 0, 1, 1, 2)))
            degree = min(max(degree, 3), 13)
            if beat % 2 == 0:  # strong beat: move to the nearest chord tone
                while degree % len(scale) not in chord_degrees:
                    degree += 1
            notes.append(Note(instrument, "melody", start + beat * period, step * period * 0.95,
                              _scale_pitch(tonic, scale, degree, base), float(rng.uniform(0.6, 0.8))))
    return notes
