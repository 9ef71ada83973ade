"""Key estimation on synthesised scales and chords, key parsing, exact and loose key accuracy."""

from __future__ import annotations

import pytest

from toolkit.errors import UserError
from toolkit.metrics.key import Key, estimate_key, key_accuracy, keys_match, parse_key

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


def test_loose_accuracy_accepts_relative_and_parallel_keys():
    c_major = Key(0, "major")
    relative, parallel, fifth = Key(9, "minor"), Key(0, "minor"), Key(7, "major")
    assert not keys_match(relative, c_major) and keys_match(relative, c_major, loose=True)
    assert keys_match(c_major, relative, loose=True)
    assert not keys_match(parallel, c_major) and keys_match(parallel, c_major, loose=True)
    assert not keys_match(fifth, c_major, loose=True)
    estimates, targets = [c_major, relative, fifth, parallel], [c_major] * 4
    assert key_accuracy(estimates, targets) == 0.25
    assert key_accuracy(estimates, targets, loose=True) == 0.75
