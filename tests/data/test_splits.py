"""Split assignment is deterministic, complete, and independent of input order."""

from __future__ import annotations

import pytest

from toolkit.data.splits import assign_splits


def test_splits_are_deterministic_and_order_free() -> None:
    stems = [f"clip_{i:03d}" for i in range(100)]
    a = assign_splits(stems, val=0.1, test=0.2, seed=0)
    b = assign_splits(list(reversed(stems)), val=0.1, test=0.2, seed=0)
    assert a == b
    counts = {s: list(a.values()).count(s) for s in ("train", "val", "test")}
    assert counts == {"train": 70, "val": 10, "test": 20}


def test_seed_changes_membership_and_small_sets_get_every_split() -> None:
    stems = [f"s{i}" for i in range(50)]
    assert assign_splits(stems, 0.1, 0.1, seed=0) != assign_splits(stems, 0.1, 0.1, seed=1)
    assert sorted(assign_splits(["a", "b", "c"], 0.1, 0.1).values()) == ["test", "train", "val"]


def test_bad_fractions_are_rejected() -> None:
    with pytest.raises(ValueError):
        assign_splits(["a"], val=0.6, test=0.5)
