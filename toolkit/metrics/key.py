"""Musical key estimation (Krumhansl–Schmuckler on librosa chroma) and key accuracy.

Key accuracy is scored by default as MIREX's Audio Key Detection task scores it (`mir_eval.key.weighted_score`):
same key 1.0, estimate a perfect fifth above the target (same mode) 0.5, relative key (C major ↔ A minor) 0.3,
parallel key (C major ↔ C minor) 0.2, anything else 0. `scoring="exact"` needs tonic and mode to match;
`scoring="loose"` is the toolkit's older variant that counts relative and parallel keys as fully right and a
fifth as wrong (it matches no published number).
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

import numpy as np

from toolkit.errors import UserError

# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
_PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

KeyScoring = Literal["mirex", "exact", "loose"]


class Key(NamedTuple):
    """A key as tonic pitch class (0 = C) and mode ("major" or "minor")."""

    tonic: int
    mode: str

    def __str__(self) -> str:
        return f"{_PITCH_NAMES[self.tonic]} {self.mode}"


def parse_key(key: str, mode: str | None = None) -> Key:
    """Parse "D", "Bb minor", "F#m", "A:min" (mode may also be given separately, as manifests do)."""
    match = re.fullmatch(r"\s*([A-Ga-g])([#♯b♭]*)\s*[:_ -]?\s*(major|minor|maj|min|m|M)?\s*", str(key))
    if not match:
        raise UserError(f"cannot parse key {key!r} (expected e.g. 'D major', 'Bb minor', 'F#m')")
    letter, accidentals, suffix = match.groups()
    tonic = (_LETTER_PC[letter.upper()] + sum(1 if a in "#♯" else -1 for a in accidentals)) % 12
    word = mode or suffix or "major"
    word = {"maj": "major", "M": "major", "min": "minor", "m": "minor"}.get(word, word).lower()
    if word not in ("major", "minor"):
        raise UserError(f"unknown mode {word!r} for key {key!r} (expected major or minor)")
    return Key(tonic, word)


def key_from_chroma(chroma_mean: np.ndarray) -> Key:
    """The key whose rotated Krumhansl–Kessler profile correlates best with a 12-bin mean chroma vector."""
    chroma_mean = np.asarray(chroma_mean, np.float64)
    best, best_r = Key(0, "major"), -np.inf
    for mode, profile in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
        for tonic in range(12):
            r = np.corrcoef(chroma_mean, np.roll(profile, tonic))[0, 1]
            if r > best_r:
                best, best_r = Key(tonic, mode), r
    return best


def estimate_key(audio: np.ndarray, sample_rate: int) -> Key:
    """Key of a mono clip from its time-averaged constant-Q chroma."""
    import librosa

    chroma = librosa.feature.chroma_cqt(y=np.asarray(audio, np.float32), sr=sample_rate)
    return key_from_chroma(chroma.mean(axis=1))


def keys_match(estimate: Key, target: Key, loose: bool = False) -> bool:
    """Exact match, or with `loose` also the relative and parallel keys (the older, non-MIREX variant)."""
    if estimate == target:
        return True
    if not loose:
        return False
    if estimate.tonic == target.tonic:  # parallel
        return True
    major, minor = (estimate, target) if estimate.mode == "major" else (target, estimate)
    return major.mode == "major" and minor.mode == "minor" and (major.tonic + 9) % 12 == minor.tonic


def key_score(estimate: Key, target: Key, scoring: KeyScoring = "mirex") -> float:
    """Score of one estimate against its target: MIREX weights by default, else 1.0 / 0.0 for a match."""
    if scoring == "mirex":
        import mir_eval

        return float(mir_eval.key.weighted_score(str(target), str(estimate)))
    if scoring in ("exact", "loose"):
        return float(keys_match(estimate, target, loose=scoring == "loose"))
    raise ValueError(f"unknown key scoring {scoring!r} (expected 'mirex', 'exact' or 'loose')")


def key_accuracy(estimates: list[Key], targets: list[Key], scoring: KeyScoring = "mirex") -> float:
    """Mean `key_score` of estimates against their targets (MIREX weighted by default)."""
    if len(estimates) != len(targets) or not targets:
        raise ValueError("need equally many (and at least one) estimates and targets")
    return float(np.mean([key_score(e, t, scoring) for e, t in zip(estimates, targets, strict=True)]))
