"""Every librosa function the toolkit calls, run once on a short signal: what fills (or tests) numba's cache.

Run in a child process by `numba_cache` (a crash here must not take the caller with it). Both float widths,
since numba compiles and caches one entry per argument type. Keep this list in step with the toolkit's
librosa calls (`grep -rn "librosa\\." toolkit`): a function missing here is compiled, unguarded, on first use.
"""

from __future__ import annotations

import numpy as np


def exercise_librosa() -> None:
    """Call each librosa function the toolkit uses, with float32 and float64 input."""
    import librosa

    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        sr = 22050
        y = (rng.standard_normal(2 * sr) * 0.05).astype(dtype)
        y[:: sr // 4] += 1.0  # clicks: onsets and beats to find
        envelope = librosa.onset.onset_strength(y=y, sr=sr)
        librosa.onset.onset_detect(onset_envelope=envelope, sr=sr, wait=1, delta=0.2, pre_avg=3, post_avg=3,
                                   pre_max=3, post_max=3)
        librosa.onset.onset_detect(y=y, sr=sr, units="time")
        librosa.beat.beat_track(onset_envelope=envelope, sr=sr)
        librosa.beat.beat_track(y=y, sr=sr, units="time")
        librosa.feature.tempo(onset_envelope=envelope, sr=sr)
        librosa.feature.tempogram(onset_envelope=envelope, sr=sr)
        mel = librosa.feature.melspectrogram(y=y, sr=sr, n_mels=32)
        librosa.power_to_db(mel)
        librosa.feature.rms(y=y)
        librosa.feature.chroma_stft(y=y, sr=sr)
        librosa.feature.chroma_cqt(y=y, sr=sr)
        librosa.times_like(envelope, sr=sr)
        librosa.zero_crossings(y)
        librosa.util.localmax(envelope)
        librosa.util.localmin(envelope)


if __name__ == "__main__":
    exercise_librosa()
