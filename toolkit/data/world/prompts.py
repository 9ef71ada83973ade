"""Creator-style prompts with paraphrases, drawn from templates over a clip's attributes.

The main prompt always names style, tempo, key and mode; paraphrases reword it (and some name the
instruments), as attribute-augmented prompts in video-to-music benchmarks do.
"""

from __future__ import annotations

import numpy as np

MAIN = "{a} {mood} {label} at {tempo} BPM in {key} {mode}, {mood2} and {mood3}"
PARAPHRASES = (
    "{label} in {key} {mode}, {tempo} bpm, {mood} mood",
    "{mood} {label} with {instruments}, around {tempo} beats per minute, key of {key} {mode}",
    "I want {a2} {mood2} {label} for this video: {tempo} BPM, {key} {mode}, {instruments}",
    "{tempo} BPM {key} {mode} {label}; {mood}, {mood3}",
    "soundtrack: {label}, {mood} and {mood2}, featuring {instruments} ({key} {mode}, {tempo} BPM)",
    "{a3} {mood3} piece in the style of {a_label} {label}, {key} {mode} at {tempo} BPM",
)
MODE_MOODS = {"major": ("bright", "hopeful", "uplifting"), "minor": ("melancholic", "wistful", "moody")}


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def make_prompts(label: str, moods: tuple[str, ...], tempo: int, key: str, mode: str, instruments: list[str],
                 rng: np.random.Generator, n_paraphrases: int = 3) -> tuple[str, list[str]]:
    """The main prompt and `n_paraphrases` distinct paraphrases."""
    pool = list(moods) + list(MODE_MOODS[mode])
    picked = [pool[i] for i in rng.choice(len(pool), size=3, replace=False)]
    fields = {"label": label, "tempo": tempo, "key": key, "mode": mode, "instruments": _join(instruments),
              "mood": picked[0], "mood2": picked[1], "mood3": picked[2], "a": _article(picked[0]),
              "a2": _article(picked[1]), "a3": _article(picked[2]), "a_label": _article(label)}
    chosen = rng.choice(len(PARAPHRASES), size=n_paraphrases, replace=False)
    return MAIN.format(**fields), [PARAPHRASES[i].format(**fields) for i in sorted(chosen)]
