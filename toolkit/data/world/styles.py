"""The style table of the micro world: what each style sounds like and what it looks like.

A style ties the audio (tempo range, instruments, drum pattern) to the video (palette, shape, texture), so
that the video's content predicts the music's style: the semantic signal conditioners should pick up. Mood is
not a style's: it follows the clip's emotion (`emotion.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Style:
    """One musical style and its visual identity."""

    name: str
    label: str  # how prompts call it
    tempo: tuple[int, int]  # BPM range, inclusive
    chords: tuple[str, ...]  # instruments that may play the chords (one is drawn per clip)
    melody: tuple[str, ...]  # instruments that may play the melody
    bass: str | None
    drums: str | None  # a key of DRUM_PATTERNS
    melody_step: float  # melody grid in beats (0.5 = eighth notes)
    bars_per_phrase: int  # a plain clip cuts on every phrase boundary
    # One hue per style (the semantic signal) in lightness variants far enough apart that a shot change moves
    # every background pixel by more than a beat flash does; a shot never repeats the previous background.
    backgrounds: tuple[RGB, ...]
    accents: tuple[RGB, ...]  # shape colours
    shape: str  # circle | square | triangle | band | blob | ring
    texture: str  # gradient | vignette | grid | stripes | grain | scanlines
    motion: float  # shape drift in pixels per second


# Drum hits per beat of a 4/4 bar at sixteenth-note resolution: every beat carries a kick or a snare, so
# each beat is a clean onset that beat trackers can find.
DRUM_PATTERNS: dict[str, dict[str, tuple[int, ...]]] = {
    "four_on_floor": {"kick": (0, 4, 8, 12), "snare": (4, 12), "hat": (2, 6, 10, 14)},
    "backbeat": {"kick": (0, 8, 10), "snare": (4, 12), "hat": (0, 2, 4, 6, 8, 10, 12, 14)},
    "folk": {"kick": (0, 8), "snare": (4, 12), "hat": (0, 4, 8, 12)},
}

STYLE_TABLE: dict[str, Style] = {
    s.name: s
    for s in (
        Style(
            name="ambient",
            label="ambient pad",
            tempo=(60, 80),
            chords=("pad",),
            melody=("bell",),
            bass=None,
            drums=None,
            melody_step=2.0,
            bars_per_phrase=1,
            backgrounds=((20, 30, 90), (40, 55, 150), (10, 15, 50)),
            accents=((120, 160, 255), (190, 140, 255), (140, 220, 255)),
            shape="blob",
            texture="gradient",
            motion=6.0,
        ),
        Style(
            name="piano_ballad",
            label="piano ballad",
            tempo=(64, 88),
            chords=("piano",),
            melody=("piano",),
            bass=None,
            drums=None,
            melody_step=1.0,
            bars_per_phrase=1,
            backgrounds=((120, 60, 28), (170, 90, 45), (80, 38, 18)),
            accents=((255, 214, 150), (250, 180, 90), (255, 240, 200)),
            shape="circle",
            texture="vignette",
            motion=10.0,
        ),
        Style(
            name="electronic",
            label="electronic dance track",
            tempo=(118, 132),
            chords=("saw pad", "pad"),
            melody=("lead synth",),
            bass="synth bass",
            drums="four_on_floor",
            melody_step=0.5,
            bars_per_phrase=2,
            backgrounds=((36, 6, 48), (80, 16, 104), (8, 2, 10)),
            accents=((255, 40, 200), (190, 70, 255), (255, 120, 230)),
            shape="square",
            texture="grid",
            motion=40.0,
        ),
        Style(
            name="strings",
            label="string ensemble piece",
            tempo=(70, 100),
            chords=("strings",),
            melody=("violin",),
            bass="cello",
            drums=None,
            melody_step=1.0,
            bars_per_phrase=1,
            backgrounds=((24, 80, 40), (44, 130, 66), (8, 36, 18)),
            accents=((220, 200, 110), (170, 240, 160), (240, 230, 180)),
            shape="band",
            texture="stripes",
            motion=14.0,
        ),
        Style(
            name="folk",
            label="plucked folk song",
            tempo=(92, 116),
            chords=("acoustic guitar",),
            melody=("mandolin", "acoustic guitar"),
            bass="upright bass",
            drums="folk",
            melody_step=0.5,
            bars_per_phrase=1,
            backgrounds=((130, 125, 30), (170, 165, 50), (95, 90, 20)),
            accents=((210, 90, 30), (240, 200, 120), (120, 60, 20)),
            shape="triangle",
            texture="grain",
            motion=20.0,
        ),
        Style(
            name="lofi",
            label="lo-fi hip hop beat",
            tempo=(72, 92),
            chords=("electric piano",),
            melody=("electric piano", "bell"),
            bass="synth bass",
            drums="backbeat",
            melody_step=1.0,
            bars_per_phrase=1,
            backgrounds=((200, 120, 150), (235, 160, 185), (160, 90, 120)),
            accents=((60, 180, 170), (250, 240, 220), (90, 200, 200)),
            shape="ring",
            texture="scanlines",
            motion=8.0,
        ),
    )
}

STYLES: tuple[str, ...] = tuple(STYLE_TABLE)

KEYS: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MODES: tuple[str, ...] = ("major", "minor")
