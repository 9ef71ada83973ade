"""Deterministic train/val/test assignment by hashing clip stems."""

from __future__ import annotations

import hashlib

from toolkit.errors import UserError


def _unit(stem: str, seed: int) -> float:
    """A uniform number in [0, 1) drawn from the stem alone (and the seed)."""
    return int(hashlib.sha256(f"{seed}:{stem}".encode()).hexdigest()[:16], 16) / 2**64


def assign_splits(stems: list[str], val: float, test: float, seed: int = 0) -> dict[str, str]:
    """stem → "train" | "val" | "test".

    Each stem's split depends on its own seeded hash only: adding, removing or failing to decode other clips never
    moves a clip between splits (so test clips cannot leak into training across dataset versions or machines).
    Test takes hashes below `test`, val the next `val`. A dataset of 3+ clips whose val or test split would be
    empty by chance gets the train clip nearest that split's band moved into it, so small sets still have each.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise UserError(f"data.splits: fractions must be in [0, 1) and sum below 1, got val={val} test={test}")
    units = {stem: _unit(stem, seed) for stem in stems}
    splits = {s: "test" if u < test else "val" if u < test + val else "train" for s, u in units.items()}
    if len(stems) >= 3:
        for name, fraction, centre in (("test", test, test / 2), ("val", val, test + val / 2)):
            if fraction <= 0 or name in splits.values():
                continue
            groups = {g: [s for s in stems if splits[s] == g] for g in ("train", "val", "test")}
            donor = max(groups.values(), key=len)
            if len(donor) > 1:
                splits[min(donor, key=lambda s: abs(units[s] - centre))] = name
    return splits
