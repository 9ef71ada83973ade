"""Wilson score intervals for binary per-clip rates: known answers from the closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolkit.metrics.wilson import wilson_interval, wilson_interval_of

Z95 = 1.959963984540054  # standard normal 97.5% quantile


def _closed_form(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """(p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_all_correct_keeps_a_width():
    lo, hi = wilson_interval(10, 10)
    assert lo == pytest.approx(10 / (10 + Z95**2), rel=1e-12)  # n / (n + z²)
    assert lo == pytest.approx(0.722467, abs=1e-6) and hi == 1.0
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.277533), abs=1e-6)


@pytest.mark.parametrize(
    "k,n,expected", [(5, 10, (0.236593, 0.763407)), (9, 10, (0.595850, 0.982124)), (1, 1, (0.206549, 1.0))]
)
def test_known_values(k, n, expected):
    assert wilson_interval(k, n) == pytest.approx(expected, abs=1e-6)
    assert wilson_interval(k, n) == pytest.approx(_closed_form(k, n), abs=1e-12)


def test_confidence_level_and_counts_from_outcomes():
    z90 = 1.6448536269514722
    assert wilson_interval(10, 10, confidence=0.9)[0] == pytest.approx(10 / (10 + z90**2), rel=1e-12)
    hits = np.array([True] * 7 + [False] * 3)
    assert wilson_interval_of(hits) == wilson_interval(7, 10)
    assert wilson_interval_of(hits.astype(float)) == wilson_interval(7, 10)


def test_bad_counts_raise():
    for k, n in ((11, 10), (-1, 10), (0, 0)):
        with pytest.raises(ValueError, match="successes"):
            wilson_interval(k, n)
    with pytest.raises(ValueError, match="0/1"):
        wilson_interval_of(np.array([0.5, 1.0]))
