"""Which rhythm the generator is conditioned on while training: the real one (from the music) at first, the
predicted one (from the video) later, as in Diff-V2M: the real rhythm with probability 1 for the first third of
training, falling linearly to 0 by two thirds. Generation always uses the predicted rhythm."""

from __future__ import annotations


def real_rhythm_probability(step: int, total: int, start: float = 1 / 3, end: float = 2 / 3) -> float:
    """Probability that a training example is conditioned on the real rhythm at `step` of `total`."""
    if total <= 0:
        return 0.0
    progress = step / total
    if progress <= start:
        return 1.0
    if progress >= end:
        return 0.0
    return (end - progress) / (end - start)
