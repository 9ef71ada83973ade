"""Density and coverage agree with the reference `prdc` package (a required dev dependency)."""

from __future__ import annotations

import numpy as np
import prdc
import pytest

from toolkit.metrics.bootstrap import bootstrap_sets_ci
from toolkit.metrics.prdc import DensityCoverageResampler, density_coverage


@pytest.mark.parametrize("shift", [0.0, 0.5, 2.0])
def test_agrees_with_the_prdc_package(rng, shift):
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
    with pytest.raises(ValueError, match="more than 5"):
        DensityCoverageResampler(rng.normal(size=(5, 3)), rng.normal(size=(10, 3)), k=5)


def test_resampler_on_the_full_sets_is_the_plain_metric(rng):
    real, fake = rng.normal(size=(60, 6)), rng.normal(size=(45, 6)) + 0.3
    resampled = DensityCoverageResampler(real, fake, k=5)
    assert resampled(np.arange(60), np.arange(45)) == density_coverage(real, fake, k=5)


def test_resampled_real_points_keep_their_full_set_balls():
    # Real points on a line at 0, 1, ..., 9 with k=2: inner points have radius 1 (a neighbour on each side).
    # One generated point at 4.5 lies in the balls of 4 and 5 only.
    real = np.arange(10.0)[:, None]
    fake = np.array([[4.5]])
    resampled = DensityCoverageResampler(real, fake, k=2)
    # Real point 4 drawn ten times: recomputed radii would be 0 (its own copies are its neighbours).
    assert resampled(np.full(10, 4), np.array([0])) == {"density": 5.0, "coverage": 1.0}
    assert resampled(np.array([0, 1, 2, 4, 4]), np.array([0])) == {"density": 1.0, "coverage": 0.4}


def test_coverage_interval_moves_with_the_reference_resample(rng):
    # The reference is resampled too: holding it fixed would make the interval narrower.
    real, fake = rng.normal(size=(40, 4)), rng.normal(size=(40, 4)) + 0.5
    resampled = DensityCoverageResampler(real, fake, k=5)
    both = bootstrap_sets_ci([40, 40], lambda r, g: resampled(r, g)["coverage"], n_resamples=400, paired=True)
    generated_only = bootstrap_sets_ci(
        [40, 40], lambda r, g: resampled(np.arange(40), g)["coverage"], n_resamples=400, paired=True
    )
    assert both[1] - both[0] > generated_only[1] - generated_only[0]
