"""Cheap numpy synthesis of the world's instruments and drums (wavetable, FM, Karplus-Strong).

Every voice starts with a sharp or clearly shaped attack, so onsets in the rendered audio sit exactly on the
composed grid.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import signal

from toolkit.data.world.compose import Score

TABLE_SIZE = 4096
LEVELS = {"chords": 0.22, "melody": 0.3, "bass": 0.35, "kick": 1.0, "snare": 0.6, "hat": 0.18}


def midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


def render_audio(score: Score, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Mix every section's notes and drum hits into a mono float32 signal of `score.seconds`; each section
    sounds only over its own span. Valence sets the timbre's brightness and arousal the peak level."""
    n = int(round(score.seconds * sample_rate))
    mix = np.zeros(n, dtype=np.float64)
    for part in score.parts:
        layer = np.zeros(n, dtype=np.float64)
        for note in part.notes:
            voice = INSTRUMENTS[note.instrument](midi_to_hz(note.pitch), note.duration, sample_rate)
            _add(layer, voice * note.velocity * LEVELS[note.part], note.start, sample_rate)
        for hit in part.hits:
            _add(layer, DRUMS[hit.drum](sample_rate, rng) * hit.velocity * LEVELS[hit.drum], hit.time,
                 sample_rate)
        mix += layer * _span(n, part.section.start, part.section.end, sample_rate)
    mix = _tilt(mix, score.emotion.timbre_brightness, sample_rate)
    peak = float(np.max(np.abs(mix))) or 1.0
    return (mix * (score.emotion.peak_level / peak)).astype(np.float32)


def _span(n: int, start: float, end: float, sample_rate: int, fade: float = 0.005) -> np.ndarray:
    """1 over [start, end) with 5 ms linear ramps inside it at cuts (none at the clip's own edges)."""
    t = np.arange(n) / sample_rate
    gain = ((t >= start) & (t < end)).astype(np.float64)
    if start > 0:
        gain *= np.clip((t - start) / fade, 0.0, 1.0)
    if end < n / sample_rate:
        gain *= np.clip((end - t) / fade, 0.0, 1.0)
    return gain


def _tilt(mix: np.ndarray, brightness: float, sample_rate: int, corner: float = 800.0) -> np.ndarray:
    """Keep the mix below `corner` Hz and scale what lies above it by `brightness` (a first-order shelf)."""
    b, a = signal.butter(1, corner, fs=sample_rate)
    low = signal.lfilter(b, a, mix)
    return low + brightness * (mix - low)


def _add(mix: np.ndarray, voice: np.ndarray, start: float, sample_rate: int) -> None:
    """Add `voice` into `mix` at `start` seconds, cropping whatever falls outside the clip."""
    offset = int(round(start * sample_rate))
    lo, hi = max(offset, 0), min(offset + len(voice), len(mix))
    if hi > lo:
        mix[lo:hi] += voice[lo - offset : hi - offset]


def _adsr(n: int, sample_rate: int, attack: float, release: float, hold: int) -> np.ndarray:
    """Linear attack, sustain until `hold` samples, exponential release."""
    t = np.arange(n)
    env = np.minimum(1.0, t / max(attack * sample_rate, 1.0))
    tail = t >= hold
    env[tail] *= np.exp(-(t[tail] - hold) / max(release * sample_rate, 1.0))
    return env


def _wavetable(harmonics: tuple[float, ...]) -> np.ndarray:
    x = np.arange(TABLE_SIZE) / TABLE_SIZE
    table = sum(a * np.sin(2 * np.pi * (k + 1) * x) for k, a in enumerate(harmonics))
    return table / np.max(np.abs(table))


def _oscillator(table: np.ndarray, freq: float, n: int, sample_rate: int, vibrato: float = 0.0,
                detune: float = 0.0) -> np.ndarray:
    """Read `table` at `freq` (with optional vibrato depth in semitones and a detune in cents)."""
    t = np.arange(n) / sample_rate
    f = freq * 2 ** (detune / 1200) * (1 + vibrato * np.sin(2 * np.pi * 5.5 * t) * 0.0578)
    phase = np.cumsum(f) / sample_rate
    return table[((phase % 1.0) * TABLE_SIZE).astype(np.int64)]


SAW8 = _wavetable(tuple(1 / k for k in range(1, 9)))
SAW12 = _wavetable(tuple(1 / k for k in range(1, 13)))
SOFT = _wavetable((1.0, 0.5, 0.3, 0.12, 0.06))
BASS = _wavetable((1.0, 0.6, 0.3, 0.15))


def _pad(freq: float, duration: float, sr: int) -> np.ndarray:
    n = int((duration + 0.4) * sr)
    voice = sum(_oscillator(SOFT, freq, n, sr, detune=c) for c in (-7, 0, 7)) / 3
    return voice * _adsr(n, sr, 0.25, 0.2, int(duration * sr))


def _saw_pad(freq: float, duration: float, sr: int) -> np.ndarray:
    n = int((duration + 0.2) * sr)
    voice = sum(_oscillator(SAW12, freq, n, sr, detune=c) for c in (-9, 9)) / 2
    return voice * _adsr(n, sr, 0.02, 0.08, int(duration * sr))


def _strings(freq: float, duration: float, sr: int, vibrato: float = 0.15) -> np.ndarray:
    n = int((duration + 0.25) * sr)
    voice = sum(_oscillator(SAW8, freq, n, sr, vibrato=vibrato, detune=c) for c in (-5, 5)) / 2
    return voice * _adsr(n, sr, 0.08, 0.12, int(duration * sr))


def _violin(freq: float, duration: float, sr: int) -> np.ndarray:
    return _strings(freq, duration, sr, vibrato=0.3)


def _synth_bass(freq: float, duration: float, sr: int) -> np.ndarray:
    n = int((duration + 0.05) * sr)
    return _oscillator(BASS, freq, n, sr) * _adsr(n, sr, 0.004, 0.03, int(duration * sr))


def _piano(freq: float, duration: float, sr: int) -> np.ndarray:
    """Slightly inharmonic decaying partials; upper partials die faster, as on a struck string."""
    n = int((duration + 0.3) * sr)
    t = np.arange(n) / sr
    voice = np.zeros(n)
    for k in range(1, 8):
        fk = k * freq * np.sqrt(1 + 2e-4 * k * k)
        if fk < sr / 2:
            voice += np.sin(2 * np.pi * fk * t) * np.exp(-t * (1.2 + 0.8 * k)) / k**1.3
    return voice * _adsr(n, sr, 0.003, 0.08, int(duration * sr))


def _fm(freq: float, duration: float, sr: int, ratio: float, index: float, index_decay: float,
        amp_decay: float) -> np.ndarray:
    n = int((duration + 0.3) * sr)
    t = np.arange(n) / sr
    modulator = index * np.exp(-t * index_decay) * np.sin(2 * np.pi * ratio * freq * t)
    voice = np.sin(2 * np.pi * freq * t + modulator) * np.exp(-t * amp_decay)
    return voice * _adsr(n, sr, 0.002, 0.06, int(duration * sr))


def _bell(freq: float, duration: float, sr: int) -> np.ndarray:
    return _fm(freq, duration, sr, ratio=3.5, index=3.0, index_decay=3.0, amp_decay=1.5)


def _electric_piano(freq: float, duration: float, sr: int) -> np.ndarray:
    return _fm(freq, duration, sr, ratio=1.0, index=1.8, index_decay=5.0, amp_decay=2.0)


def _lead(freq: float, duration: float, sr: int) -> np.ndarray:
    return _fm(freq, duration, sr, ratio=2.0, index=1.2, index_decay=1.0, amp_decay=0.8)


def _karplus_strong(freq: float, duration: float, sr: int, decay: float, brightness: float) -> np.ndarray:
    """A plucked string: a noise burst circulating in a damped delay line (run as one IIR filter)."""
    n = int((duration + 0.3) * sr)
    delay = max(int(round(sr / freq)), 2)
    # Deterministic excitation per pitch, so that the same note always sounds the same.
    burst = np.random.default_rng(delay).uniform(-1, 1, delay)
    burst = signal.lfilter([brightness], [1, brightness - 1], burst)  # one-pole lowpass: darker pluck
    excitation = np.zeros(n)
    excitation[:delay] = burst
    denominator = np.zeros(delay + 2)
    denominator[0], denominator[delay], denominator[delay + 1] = 1.0, -0.5 * decay, -0.5 * decay
    voice = signal.lfilter([1.0], denominator, excitation)
    return voice * _adsr(n, sr, 0.001, 0.05, int(duration * sr))


def _guitar(freq: float, duration: float, sr: int) -> np.ndarray:
    return _karplus_strong(freq, duration, sr, decay=0.996, brightness=0.6)


def _mandolin(freq: float, duration: float, sr: int) -> np.ndarray:
    return _karplus_strong(freq, duration, sr, decay=0.99, brightness=0.9)


def _upright_bass(freq: float, duration: float, sr: int) -> np.ndarray:
    n = int((duration + 0.1) * sr)
    t = np.arange(n) / sr
    voice = (np.sin(2 * np.pi * freq * t) + 0.4 * np.sin(4 * np.pi * freq * t)) * np.exp(-t * 3.0)
    return voice * _adsr(n, sr, 0.005, 0.05, int(duration * sr))


def _cello(freq: float, duration: float, sr: int) -> np.ndarray:
    return _strings(freq, duration, sr, vibrato=0.1)


INSTRUMENTS: dict[str, Callable[[float, float, int], np.ndarray]] = {
    "pad": _pad, "saw pad": _saw_pad, "strings": _strings, "violin": _violin, "cello": _cello,
    "piano": _piano, "bell": _bell, "electric piano": _electric_piano, "lead synth": _lead,
    "synth bass": _synth_bass, "acoustic guitar": _guitar, "mandolin": _mandolin,
    "upright bass": _upright_bass,
}


def _kick(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.35 * sr)) / sr
    freq = 45 + 90 * np.exp(-t / 0.035)
    body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.16)
    click = rng.uniform(-1, 1, len(t)) * np.exp(-t / 0.003) * 0.5
    return body + click


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.25 * sr)) / sr
    noise = signal.lfilter([1, -1], [1], rng.uniform(-1, 1, len(t)))  # first difference: brighter noise
    return 0.6 * noise * np.exp(-t / 0.07) + np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.05)


def _hat(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.08 * sr)) / sr
    noise = signal.lfilter([1, -2, 1], [1], rng.uniform(-1, 1, len(t)))  # second difference: hiss
    return 0.5 * noise * np.exp(-t / 0.02)


DRUMS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "kick": _kick, "snare": _snare, "hat": _hat,
}
