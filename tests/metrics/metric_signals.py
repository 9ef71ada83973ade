"""Synthetic signals with known answers for the metric tests (imported by name; pytest puts this folder on
sys.path, and the name is unique across the test tree)."""

from __future__ import annotations

import numpy as np

SR = 22050


def click_track(bpm: float, seconds: float = 8.0, offset: float = 0.0, sr: int = SR) -> np.ndarray:
    """Short decaying 1 kHz clicks every beat, starting at `offset` seconds."""
    import librosa

    times = np.arange(offset, seconds - 0.05, 60.0 / bpm)
    return librosa.clicks(times=times, sr=sr, length=int(sr * seconds)).astype(np.float32)


def clicks_at(times: list[float], seconds: float, sr: int = SR) -> np.ndarray:
    import librosa

    return librosa.clicks(times=np.asarray(times), sr=sr, length=int(sr * seconds)).astype(np.float32)


def tone(midi: float, seconds: float, sr: int = SR) -> np.ndarray:
    """A plucked harmonic tone (4 partials) at a MIDI pitch."""
    t = np.arange(int(sr * seconds)) / sr
    freq = 440.0 * 2 ** ((midi - 69) / 12)
    envelope = np.minimum(1.0, 20 * t) * np.exp(-2 * t)
    partials = sum(0.5**h * np.sin(2 * np.pi * freq * (h + 1) * t) for h in range(4))
    return (partials * envelope).astype(np.float32)


MAJOR_STEPS, MINOR_STEPS = (0, 2, 4, 5, 7, 9, 11, 12), (0, 2, 3, 5, 7, 8, 10, 12)


def scale_and_chord(tonic: int, mode: str, sr: int = SR) -> np.ndarray:
    """An ascending scale from the tonic (MIDI 60 + tonic) then the tonic triad."""
    steps = MAJOR_STEPS if mode == "major" else MINOR_STEPS
    triad = (0, 4, 7) if mode == "major" else (0, 3, 7)
    root = 60 + tonic
    notes = [tone(root + s, 0.3, sr) for s in steps]
    chord = sum(tone(root + c, 1.0, sr) for c in triad)
    return np.concatenate([*notes, chord])
