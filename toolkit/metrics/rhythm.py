"""Rhythm metrics: beat hit/coverage scores (LORIS), transition–beat IoU (VeM), tempo accuracy.

BHS / BCS follow LORIS's released evaluation (beats_scores.py): onsets from `librosa.onset.onset_detect`
with `LORIS_ONSET_PARAMS` on audio at 22,050 Hz, quantised to bins of `bin_seconds` (LORIS uses 1 s bins;
some follow-ups use 0.2 s, i.e. 5 Hz, because 1 s bins saturate: at 120 BPM nearly every bin
holds an onset), the reference grid truncated to the shorter clip; then
  BHS = hit bins / reference onset bins,   BCS = hit bins / generated onset bins,
computed per pair and averaged over pairs. (D2M-GAN's older BCS divided *generated* by *reference* bins; the
LORIS code divides hits by generated bins, which is what is implemented here.)

Tempo accuracy: an estimate is right within `tolerance` = 8% of the target, MIREX's Audio Tempo Estimation
tolerance (`mir_eval.tempo.detection`'s default `tol`); the tolerant variant (`octave=True`) also accepts
2×, 3×, ½× and ⅓× the target, Gouyon et al.'s "Accuracy 2" (IEEE TASLP 2006).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LORIS_SAMPLE_RATE = 22050
LORIS_ONSET_PARAMS = {"wait": 1, "delta": 0.2, "pre_avg": 3, "post_avg": 3, "pre_max": 3, "post_max": 3}
LORIS_BIN_SECONDS, FINE_BIN_SECONDS = 1.0, 0.2
MIREX_TEMPO_TOLERANCE = 0.08
OCTAVE_FACTORS = (1 / 3, 0.5, 1.0, 2.0, 3.0)


def loris_onsets(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Onset times (s) by `librosa.onset.onset_detect` with LORIS's parameters, at LORIS's sample rate."""
    import librosa

    y = _at_rate(audio, sample_rate, LORIS_SAMPLE_RATE)
    return librosa.onset.onset_detect(y=y, sr=LORIS_SAMPLE_RATE, units="time", **LORIS_ONSET_PARAMS)


def onset_grid(onset_times: np.ndarray, duration_s: float, bin_seconds: float = LORIS_BIN_SECONDS) -> np.ndarray:
    """Binary grid with one bin per `bin_seconds`, set where at least one onset falls."""
    # Multiplying by the rate (as LORIS does) rather than dividing by the bin keeps t = 0.6 in bin 3 at 0.2 s.
    rate = 1.0 / bin_seconds
    grid = np.zeros(int(np.ceil(duration_s * rate)), dtype=bool)
    bins = np.trunc(np.asarray(onset_times, np.float64) * rate).astype(int)
    grid[bins[(bins >= 0) & (bins < grid.size)]] = True
    return grid


def beat_hit_scores(
    reference_onsets: np.ndarray,
    generated_onsets: np.ndarray,
    duration_s: float,
    bin_seconds: float = LORIS_BIN_SECONDS,
) -> tuple[float, float]:
    """(BHS, BCS) of one pair from onset times, over the first `duration_s` seconds (the shorter clip), with
    onsets binned to `bin_seconds` (LORIS: 1 s; `FINE_BIN_SECONDS` = 0.2 s for the finer variant).

    A score whose denominator is empty is 0, as in LORIS.
    """
    ref = onset_grid(reference_onsets, duration_s, bin_seconds)
    gen = onset_grid(generated_onsets, duration_s, bin_seconds)
    hits = int(np.sum(ref & gen))
    bhs = hits / ref.sum() if ref.any() else 0.0
    bcs = hits / gen.sum() if gen.any() else 0.0
    return float(bhs), float(bcs)


def beat_times(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Beat times (s) from `librosa.beat.beat_track`."""
    import librosa

    _, beats = librosa.beat.beat_track(y=np.asarray(audio, np.float32), sr=sample_rate, units="time")
    return np.asarray(beats, np.float64)


def transition_beat_iou(transitions: np.ndarray, beats: np.ndarray, tolerance_s: float = 0.1) -> float:
    """IoU of video transitions and musical beats: a transition and a beat within ±`tolerance_s` form a match
    (one-to-one, maximum matching by `mir_eval.util.match_events`); IoU = matches / (|T| + |B| − matches).

    Note the ceiling: with fewer cuts than beats, even perfectly aligned music scores |T| / |B|, so compare
    against the reference music's own TB-IoU on the same videos. Both empty → 1; one empty → 0.
    """
    import mir_eval

    transitions = np.sort(np.asarray(transitions, np.float64))
    beats = np.sort(np.asarray(beats, np.float64))
    if transitions.size == 0 and beats.size == 0:
        return 1.0
    if transitions.size == 0 or beats.size == 0:
        return 0.0
    matches = len(mir_eval.util.match_events(transitions, beats, tolerance_s))
    return float(matches / (transitions.size + beats.size - matches))


def estimate_tempo(audio: np.ndarray, sample_rate: int) -> float:
    """Global tempo (BPM) by `librosa.feature.tempo` (default prior; octave errors are expected)."""
    import librosa

    return float(librosa.feature.tempo(y=np.asarray(audio, np.float32), sr=sample_rate)[0])


def tempo_matches(
    estimate_bpm: float, target_bpm: float, tolerance: float = MIREX_TEMPO_TOLERANCE, octave: bool = False
) -> bool:
    """|estimate − f·target| ≤ tolerance·f·target for f = 1, or with `octave` any of 2, 3, ½, ⅓ too."""
    factors = OCTAVE_FACTORS if octave else (1.0,)
    return any(abs(estimate_bpm - f * target_bpm) <= tolerance * f * target_bpm for f in factors)


def tempo_accuracy(
    estimates: list[float],
    targets: list[float],
    tolerance: float = MIREX_TEMPO_TOLERANCE,
    octave: bool = False,
) -> float:
    """Fraction of estimates within `tolerance` of their targets (optionally octave-tolerant)."""
    if len(estimates) != len(targets) or not targets:
        raise ValueError("need equally many (and at least one) estimates and targets")
    return float(np.mean([tempo_matches(e, t, tolerance, octave) for e, t in zip(estimates, targets, strict=True)]))


def _at_rate(audio: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    import soxr

    audio = np.asarray(audio, np.float32)
    return audio if sample_rate == target_rate else soxr.resample(audio, sample_rate, target_rate)


def video_transitions(video: str | Path, max_side: int = 64) -> np.ndarray:
    """Cut times (s) of a video, by the toolkit's shot detector (colour-histogram change, flashes ignored),
    on every frame read small; `UserError` if the video cannot be decoded."""
    from toolkit.data.video import probe_video, read_frames
    from toolkit.features.registry import get_extractor

    frames = read_frames(video, probe_video(video).fps, max_side=max_side)
    return np.asarray(get_extractor("shots")(frames)["boundaries"], np.float64)
