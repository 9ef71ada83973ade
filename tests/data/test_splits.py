"""Split assignment is deterministic, stable when the dataset changes, and independent of input order."""

from __future__ import annotations

import pytest

from toolkit.data.splits import assign_splits
from toolkit.errors import UserError


def test_splits_are_deterministic_order_free_and_near_the_fractions() -> None:
    stems = [f"clip_{i:04d}" for i in range(2000)]
    a = assign_splits(stems, val=0.1, test=0.2, seed=0)
    assert a == assign_splits(list(reversed(stems)), val=0.1, test=0.2, seed=0)
    counts = {s: list(a.values()).count(s) / len(stems) for s in ("train", "val", "test")}
    assert counts["test"] == pytest.approx(0.2, abs=0.03) and counts["val"] == pytest.approx(0.1, abs=0.03)


def test_adding_or_losing_clips_moves_no_other_clip() -> None:
    stems = [f"clip_{i:03d}" for i in range(100)]
    base = assign_splits(stems, 0.1, 0.1)
    grown = assign_splits([*stems, "clip_new"], 0.1, 0.1)
    shrunk = assign_splits(stems[1:], 0.1, 0.1)
    assert all(grown[s] == base[s] for s in stems)
    assert all(shrunk[s] == base[s] for s in stems[1:])


def test_seed_changes_membership_and_small_sets_get_every_split() -> None:
    stems = [f"s{i}" for i in range(50)]
    assert assign_splits(stems, 0.1, 0.1, seed=0) != assign_splits(stems, 0.1, 0.1, seed=1)
    for seed in range(20):
        assert sorted(assign_splits(["a", "b", "c"], 0.1, 0.1, seed=seed).values()) == ["test", "train", "val"]
    assert set(assign_splits(["a", "b", "c"], 0.0, 0.0).values()) == {"train"}


def test_bad_fractions_are_rejected() -> None:
    with pytest.raises(UserError, match="data.splits"):
        assign_splits(["a"], val=0.6, test=0.5)
