"""The ground-truth cue metrics on constructed events and click tracks (known answers)."""

from __future__ import annotations

import numpy as np

from toolkit.metrics.catalog.cues import hit_fraction, onset_contrast

from .metric_signals import SR, click_track


def test_hit_fraction_counts_events_within_the_tolerance() -> None:
    assert hit_fraction(np.array([0.0, 0.5, 1.02, 2.0]), np.array([0.0, 1.0]), 0.05) == 0.5
    assert hit_fraction(np.array([1.06]), np.array([1.0]), 0.05) == 0.0
    assert np.isnan(hit_fraction(np.array([]), np.array([1.0]), 0.05))
    assert np.isnan(hit_fraction(np.array([1.0]), np.array([]), 0.05))


def test_onset_strength_is_high_on_the_clicks_and_low_between_them() -> None:
    audio = click_track(120, 4.0)  # clicks every 0.5 s from 0
    on = onset_contrast(audio, SR, np.arange(0.0, 4.0, 0.5), 0.05)
    off = onset_contrast(audio, SR, np.arange(0.25, 4.0, 0.5), 0.05)
    assert on > 2.0 and off < 0.8
    assert np.isnan(onset_contrast(np.zeros(SR, np.float32), SR, np.array([0.5]), 0.05))  # silence: undefined
