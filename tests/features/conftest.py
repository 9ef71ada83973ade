"""Helpers for feature tests: frames built in memory, shaped like the video reader's output."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.data.video import Frames


def make_frames(array: np.ndarray, fps: float = 8.0) -> Frames:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return Frames(array=array, times=np.arange(len(array)) / fps, fps=float(fps))


def solid(colour: tuple[int, int, int], n: int, size: tuple[int, int] = (36, 48)) -> np.ndarray:
    """`n` frames of one flat colour."""
    return np.broadcast_to(np.array(colour, dtype=np.uint8), (n, *size, 3)).copy()


@pytest.fixture
def frames_of():
    return make_frames


@pytest.fixture
def solid_frames():
    return solid
