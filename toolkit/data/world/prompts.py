"""Creator-style prompts with paraphrases, drawn from templates over a clip's attributes, and shot captions.

The main prompt always names style, tempo, key and mode; paraphrases reword it (and some name the
instruments), as attribute-augmented prompts in video-to-music benchmarks do. Mood words come from the clip's
emotion (its quadrant of valence and arousal), not from its style. A storyboard names its styles in order.
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
CAPTION = "{label} at {tempo} BPM, {mood}"


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def make_prompts(labels: list[str], tempos: list[int], key: str, mode: str, moods: tuple[str, ...],
                 instruments: list[str], rng: np.random.Generator,
                 n_paraphrases: int = 3) -> tuple[str, list[str], list[str]]:
    """The main prompt, `n_paraphrases` distinct paraphrases and one caption per section (`labels` and
    `tempos` in section order)."""
    picked = [moods[i] for i in rng.choice(len(moods), size=3, replace=False)]
    label = ", then ".join(f"{_article(x)} {x}" if i else x for i, x in enumerate(labels))
    tempo = "/".join(str(t) for t in tempos) if len(set(tempos)) > 1 else str(tempos[0])
    fields = {"label": label, "tempo": tempo, "key": key, "mode": mode, "instruments": _join(instruments),
              "mood": picked[0], "mood2": picked[1], "mood3": picked[2], "a": _article(picked[0]),
              "a2": _article(picked[1]), "a3": _article(picked[2]), "a_label": _article(label)}
    chosen = rng.choice(len(PARAPHRASES), size=n_paraphrases, replace=False)
    captions = [CAPTION.format(label=x, tempo=t, mood=picked[0]) for x, t in zip(labels, tempos, strict=True)]
    return MAIN.format(**fields), [PARAPHRASES[i].format(**fields) for i in sorted(chosen)], captions
