"""A clip's emotion (valence and arousal, each in [-1, 1]) and every rule by which music and video show it.

Drawn per clip, independently of style. Valence is heard in the mode (major when valence >= 0) and in the
brightness of the timbre, and seen in the saturation and brightness of the picture; arousal is heard in note
density and loudness, and seen in how fast the shapes move. Prompts' mood words follow the quadrant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Emotion:
    """Valence (negative .. positive) and arousal (calm .. excited), each in [-1, 1] (Russell's circumplex)."""

    valence: float
    arousal: float

    @property
    def mode(self) -> str:
        return "major" if self.valence >= 0 else "minor"

    # -- music -------------------------------------------------------------------------------------------------
    @property
    def timbre_brightness(self) -> float:
        """Gain in (0, 1] of the mix above the tilt filter's corner: darker timbre for sadder clips."""
        return 0.1 + 0.9 * _unit(self.valence)

    @property
    def melody_rest(self) -> float:
        """Probability that a melody note off the downbeat is a rest: calm clips leave more gaps."""
        return 0.5 - 0.4 * _unit(self.arousal)

    @property
    def melody_subdivision(self) -> float:
        """Factor on the style's melody grid: excited clips play twice as many notes, calm ones half as many."""
        return 0.5 if self.arousal > 1 / 3 else 2.0 if self.arousal < -1 / 3 else 1.0

    @property
    def peak_level(self) -> float:
        """Peak amplitude of the mix: -16 dBFS at the calmest, -1 dBFS at the most excited."""
        return float(10 ** ((-16 + 15 * _unit(self.arousal)) / 20))

    # -- video -------------------------------------------------------------------------------------------------
    @property
    def saturation(self) -> float:
        """Factor on colours' distance from their grey: washed out when sad, vivid when happy."""
        return 0.3 + 0.7 * _unit(self.valence)

    @property
    def brightness(self) -> float:
        """Factor on colours: darker when sad, lighter when happy."""
        return 0.8 + 0.4 * _unit(self.valence)

    @property
    def motion(self) -> float:
        """Factor on the style's shape speed: a quarter as fast at the calmest, four times at the most excited."""
        return float(4.0 ** self.arousal)

    def grade(self, colour: np.ndarray) -> np.ndarray:
        """`colour` (..., 3) RGB in 0..255 graded by valence: saturation about its luminance, then brightness.
        Hue is kept (every channel's distance from grey scales alike), so the style's hue still shows."""
        grey = colour @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        graded = grey[..., None] + self.saturation * (colour - grey[..., None])
        return np.clip(graded * self.brightness, 0, 255).astype(np.float32)

    # -- words -------------------------------------------------------------------------------------------------
    @property
    def moods(self) -> tuple[str, ...]:
        """Mood words of the clip's quadrant of the valence-arousal plane."""
        return MOODS[(self.valence >= 0, self.arousal >= 0)]

    def as_record(self) -> dict[str, float]:
        return {"valence": round(self.valence, 4), "arousal": round(self.arousal, 4)}


MOODS: dict[tuple[bool, bool], tuple[str, ...]] = {
    (True, True): ("joyful", "excited", "euphoric", "playful", "triumphant"),
    (True, False): ("calm", "content", "serene", "tender", "peaceful"),
    (False, True): ("tense", "angry", "anxious", "urgent", "restless"),
    (False, False): ("sad", "melancholic", "gloomy", "wistful", "lonely"),
}


def draw_emotion(rng: np.random.Generator) -> Emotion:
    """Valence and arousal uniform on [-1, 1], independently of each other and of the style."""
    valence, arousal = rng.uniform(-1.0, 1.0, 2)
    return Emotion(float(valence), float(arousal))


def _unit(x: float) -> float:
    """[-1, 1] → [0, 1]."""
    return (float(x) + 1.0) / 2.0
