"""Density and coverage agree with the reference `prdc` package (a test-only dependency)."""

from __future__ import annotations

import pytest

from toolkit.metrics.prdc import density_coverage


@pytest.mark.parametrize("shift", [0.0, 0.5, 2.0])
def test_agrees_with_the_prdc_package(rng, shift):
    prdc = pytest.importorskip("prdc")
    real = rng.normal(size=(120, 8))
    fake = rng.normal(size=(90, 8)) + shift
    ours = density_coverage(real, fake, k=5)
    theirs = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=5)
    assert ours["density"] == pytest.approx(theirs["density"], rel=1e-12)
    assert ours["coverage"] == pytest.approx(theirs["coverage"], rel=1e-12)


def test_known_extremes(rng):
    real = rng.normal(size=(200, 4))
    far = rng.normal(size=(50, 4)) + 100.0
    assert density_coverage(real, far) == {"density": 0.0, "coverage": 0.0}
    same = density_coverage(real, real.copy())
    assert same["coverage"] == 1.0  # every real point sees its own copy at distance 0
    assert same["density"] == pytest.approx(1.0, abs=0.15)  # ~1 for samples from the same distribution


def test_needs_more_real_samples_than_k(rng):
    with pytest.raises(ValueError, match="more than 5"):
        density_coverage(rng.normal(size=(5, 3)), rng.normal(size=(10, 3)), k=5)
