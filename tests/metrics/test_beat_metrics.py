"""BHS/BCS (LORIS convention, 1 s and 0.2 s bins), transition–beat IoU and tempo accuracy on constructed signals."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.metrics.rhythm import (
    FINE_BIN_SECONDS,
    LORIS_BIN_SECONDS,
    beat_hit_scores,
    estimate_tempo,
    loris_onsets,
    onset_grid,
    tempo_accuracy,
    tempo_matches,
    transition_beat_iou,
)

from .metric_signals import SR, click_track, clicks_at


def test_bhs_is_one_on_identical_click_tracks():
    track = click_track(120, seconds=6.0)
    onsets = loris_onsets(track, SR)
    assert len(onsets) >= 10
    assert beat_hit_scores(onsets, onsets, 6.0) == (1.0, 1.0)
    assert beat_hit_scores(onsets, loris_onsets(track.copy(), SR), 6.0, bin_seconds=0.2) == (1.0, 1.0)


# 100 BPM clicks at 0.1 + 0.6k s sit mid-bin at both sizes (detected onsets come 10-35 ms late).
_REF_CLICKS = 0.1 + 0.6 * np.arange(10)


@pytest.mark.parametrize(
    "generated,scores_1s,scores_02s",
    [
        # every click 0.2 s late: still inside the same 1 s bins, never inside the same 0.2 s bin
        (_REF_CLICKS + 0.2, (1.0, 1.0), (0.0, 0.0)),
        # every other click: 5 of the 6 one-second bins, 5 of the 10 fifth-second bins, none spurious
        (_REF_CLICKS[::2], (5 / 6, 1.0), (0.5, 1.0)),
        # the same clicks: perfect at both sizes
        (_REF_CLICKS, (1.0, 1.0), (1.0, 1.0)),
    ],
)
def test_bhs_bcs_known_answers_on_click_tracks_at_both_bin_sizes(generated, scores_1s, scores_02s):
    ref = loris_onsets(clicks_at(list(_REF_CLICKS), seconds=6.0), SR)
    gen = loris_onsets(clicks_at(list(generated), seconds=6.0), SR)
    assert len(ref) == 10 and len(gen) == len(generated)
    assert beat_hit_scores(ref, gen, 6.0) == pytest.approx(scores_1s)  # LORIS's 1 s bins are the default
    assert beat_hit_scores(ref, gen, 6.0, bin_seconds=LORIS_BIN_SECONDS) == pytest.approx(scores_1s)
    assert beat_hit_scores(ref, gen, 6.0, bin_seconds=FINE_BIN_SECONDS) == pytest.approx(scores_02s)


def test_bhs_is_near_zero_on_disjoint_click_tracks():
    # Clicks in even seconds vs odd seconds never share a 1 s LORIS bin.
    even = clicks_at([0.3, 2.3, 4.3, 6.3, 8.3], seconds=10.0)
    odd = clicks_at([1.3, 3.3, 5.3, 7.3, 9.3], seconds=10.0)
    bhs, bcs = beat_hit_scores(loris_onsets(even, SR), loris_onsets(odd, SR), 10.0)
    assert bhs <= 0.2 and bcs <= 0.2


def test_half_the_reference_beats_gives_bhs_one_half():
    ref_times, gen_times = np.arange(10) + 0.5, np.arange(0, 10, 2) + 0.5
    bhs, bcs = beat_hit_scores(ref_times, gen_times, 10.0)
    assert (bhs, bcs) == (0.5, 1.0)
    # Generating onsets everywhere hits every reference beat but its own onsets mostly miss.
    bhs, bcs = beat_hit_scores(gen_times, ref_times, 10.0)
    assert (bhs, bcs) == (1.0, 0.5)


def test_onset_grid_bins_by_resolution_and_truncates():
    assert onset_grid([0.1, 0.2, 1.5, 9.0], duration_s=3.0).tolist() == [True, True, False]
    assert onset_grid([0.1, 0.3], duration_s=1.0, bin_seconds=0.2).tolist() == [1, 1, 0, 0, 0]
    # 0.6 s starts bin 3 at 0.2 s bins (0.6 / 0.2 is 2.9999999999999996 in floating point; 0.6 · 5 is 3)
    assert onset_grid([0.6], duration_s=1.0, bin_seconds=0.2).tolist() == [0, 0, 0, 1, 0]


def test_empty_denominators_score_zero():
    assert beat_hit_scores([], [0.5], 2.0) == (0.0, 0.0)


@pytest.mark.parametrize("bpm", [72, 90, 100, 128, 150])
def test_tempo_of_click_tracks(bpm):
    estimate = estimate_tempo(click_track(bpm), SR)
    assert tempo_matches(estimate, bpm, tolerance=0.04)


def test_octave_errors_count_only_in_the_octave_tolerant_variant():
    estimate = estimate_tempo(click_track(180), SR)  # librosa's 120 BPM prior halves fast tempi
    assert tempo_matches(estimate, 180, octave=True)
    assert tempo_accuracy([90.0, 100.0, 200.0], [180.0, 100.0, 100.0]) == pytest.approx(1 / 3)
    assert tempo_accuracy([90.0, 100.0, 200.0], [180.0, 100.0, 100.0], octave=True) == 1.0


def test_tempo_tolerance_is_mirex_eight_percent():
    assert tempo_matches(107.9, 100.0) and tempo_matches(92.1, 100.0)
    assert not tempo_matches(108.1, 100.0) and not tempo_matches(91.9, 100.0)
    assert tempo_matches(109.0, 100.0, tolerance=0.1)  # the older ±10% stays selectable


@pytest.mark.parametrize(
    "estimate,hit",
    [
        (200.0, True),
        (300.0, True),  # ×3: triple-meter confusions
        (50.0, True),
        (100 / 3, True),  # ×⅓
        (321.0, True),  # 3× +7%: the tolerance scales with the factor
        (327.0, False),  # 3× +9%
        (100 / 3 * 1.07, True),
        (100 / 3 * 1.09, False),
        (150.0, False),  # ×1.5 is not an octave error
        (400.0, False),
        (25.0, False),
    ],
)
def test_octave_tolerant_tempo_accepts_2_3_half_and_third(estimate, hit):
    assert tempo_matches(estimate, 100.0, octave=True) is hit
    assert tempo_matches(estimate, 100.0) is False


def test_strict_tempo_agrees_with_mir_eval_detection(rng):
    import mir_eval

    for target, estimate in zip(rng.uniform(40, 200, 300), rng.uniform(30, 220, 300), strict=True):
        mirex = mir_eval.tempo.detection(np.array([target, target]), 0.5, np.array([estimate, estimate]))[1]
        assert tempo_matches(estimate, target) == mirex


def test_transition_beat_iou_on_constructed_events():
    cuts = np.array([1.0, 3.0, 5.0])
    assert transition_beat_iou(cuts, cuts) == 1.0
    assert transition_beat_iou(cuts, cuts + 0.05, tolerance_s=0.1) == 1.0
    assert transition_beat_iou(cuts, cuts + 0.5, tolerance_s=0.1) == 0.0
    # 2 matched cuts out of 3, beats [1.02, 3.0, 4.0, 6.0]: IoU = 2 / (3 + 4 - 2)
    assert transition_beat_iou(cuts, np.array([1.02, 3.0, 4.0, 6.0])) == pytest.approx(2 / 5)
    # One beat cannot serve two cuts.
    assert transition_beat_iou(np.array([1.0, 1.1]), np.array([1.05])) == pytest.approx(1 / 2)
    assert transition_beat_iou([], []) == 1.0 and transition_beat_iou(cuts, []) == 0.0
