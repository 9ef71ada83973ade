"""Deterministic train/val/test assignment by hashing clip stems."""

from __future__ import annotations

import hashlib
import math


def assign_splits(stems: list[str], val: float, test: float, seed: int = 0) -> dict[str, str]:
    """stem → "train" | "val" | "test".

    Stems are ordered by a seeded hash (independent of file order and machine), then the first
    ceil(n·test) go to test and the next ceil(n·val) to val, so small datasets still get each split.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"split fractions must be in [0, 1) and sum below 1, got val={val} test={test}")
    order = sorted(stems, key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest())
    n = len(order)
    n_test = math.ceil(n * test) if n >= 3 else 0
    n_val = math.ceil(n * val) if n >= 3 else 0
    return {s: "test" if i < n_test else "val" if i < n_test + n_val else "train" for i, s in enumerate(order)}
