"""Key estimation on synthesised scales and chords, key parsing, and key scoring (MIREX weighted, exact, loose)."""

from __future__ import annotations

import pytest

from toolkit.errors import UserError
from toolkit.metrics.key import Key, estimate_key, key_accuracy, key_score, keys_match, parse_key

from .metric_signals import SR, scale_and_chord


@pytest.mark.parametrize(
    "tonic,mode",
    [
        (0, "major"),
        (2, "major"),
        (7, "major"),
        (10, "major"),
        (9, "minor"),
        (4, "minor"),
        (5, "minor"),
        (11, "minor"),
    ],
)
def test_key_of_synthesised_scale_and_chord(tonic, mode):
    assert estimate_key(scale_and_chord(tonic, mode), SR) == Key(tonic, mode)


@pytest.mark.parametrize(
    "text,mode,expected",
    [
        ("D", "major", Key(2, "major")),
        ("Bb", "minor", Key(10, "minor")),
        ("F#m", None, Key(6, "minor")),
        ("A:min", None, Key(9, "minor")),
        ("Eb major", None, Key(3, "major")),
        ("c", None, Key(0, "major")),
    ],
)
def test_parse_key(text, mode, expected):
    assert parse_key(text, mode) == expected


def test_parse_key_rejects_garbage():
    with pytest.raises(UserError, match="cannot parse key"):
        parse_key("H sharp")


def test_loose_match_accepts_relative_and_parallel_keys():
    c_major = Key(0, "major")
    relative, parallel, fifth = Key(9, "minor"), Key(0, "minor"), Key(7, "major")
    assert not keys_match(relative, c_major) and keys_match(relative, c_major, loose=True)
    assert keys_match(c_major, relative, loose=True)
    assert not keys_match(parallel, c_major) and keys_match(parallel, c_major, loose=True)
    assert not keys_match(fifth, c_major, loose=True)


@pytest.mark.parametrize(
    "estimate,target,score",
    [
        (Key(0, "major"), Key(0, "major"), 1.0),  # same key
        (Key(7, "major"), Key(0, "major"), 0.5),  # G major for C major: a fifth above
        (Key(5, "major"), Key(0, "major"), 0.0),  # F major: a fifth below counts nothing in MIREX
        (Key(9, "minor"), Key(0, "major"), 0.3),  # A minor: relative minor
        (Key(0, "minor"), Key(0, "major"), 0.2),  # C minor: parallel
        (Key(2, "major"), Key(0, "major"), 0.0),
        (Key(4, "minor"), Key(9, "minor"), 0.5),  # E minor for A minor
        (Key(0, "major"), Key(9, "minor"), 0.3),  # relative major
        (Key(9, "major"), Key(9, "minor"), 0.2),
        (Key(8, "major"), Key(1, "major"), 0.5),  # G# for C#: sharps reach mir_eval intact
        (Key(10, "minor"), Key(1, "major"), 0.3),  # A# minor for C# major
    ],
)
def test_mirex_weighted_key_score(estimate, target, score):
    assert key_score(estimate, target) == score
    assert key_score(estimate, target, scoring="exact") == float(estimate == target)


def test_mirex_score_agrees_with_the_mirex_table_on_all_576_pairs():
    keys = [Key(t, m) for t in range(12) for m in ("major", "minor")]
    for target in keys:
        for estimate in keys:
            up = (estimate.tonic - target.tonic) % 12
            if estimate == target:
                expected = 1.0
            elif estimate.mode == target.mode:
                expected = 0.5 if up == 7 else 0.0
            elif up == (9 if target.mode == "major" else 3):
                expected = 0.3
            else:
                expected = 0.2 if up == 0 else 0.0
            assert key_score(estimate, target) == expected, (estimate, target)


def test_key_accuracy_under_each_scoring():
    c_major = Key(0, "major")
    estimates = [c_major, Key(9, "minor"), Key(7, "major"), Key(0, "minor"), Key(2, "major")]
    targets = [c_major] * 5
    assert key_accuracy(estimates, targets) == pytest.approx((1 + 0.3 + 0.5 + 0.2 + 0) / 5)  # MIREX: 0.4
    assert key_accuracy(estimates, targets, scoring="exact") == pytest.approx(1 / 5)
    assert key_accuracy(estimates, targets, scoring="loose") == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="unknown key scoring"):
        key_score(c_major, c_major, scoring="csv")
