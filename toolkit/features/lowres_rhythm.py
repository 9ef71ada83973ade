"""Diff-V2M's low-resolution rhythm representations of the music: peak-picked ODF, block-averaged mel and
tempogram, each at `rate` values per second (music-side targets for a rhythm predictor).

As in Diff-V2M's code: librosa's onset strength at hop 512, z-scored over the clip, peaks picked with a
prominence of 0.05, and the largest peak value in each time bin (0 where a bin has none); the 128-band mel (dB)
and the tempogram averaged over each time bin and over blocks of bands (lags) down to `bins` values. Diff-V2M
uses 1 value per second on 30 s clips; the default here (8 per second) leaves enough values on 8 s clips. Bin i
covers the times that round to i / rate, so row i sits at time i / rate like every `series` feature.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from toolkit.errors import UserError
from toolkit.features.kinds import Feature
from toolkit.features.registry import Extractor, register_extractor
from toolkit.utils.ranges import Range


def bin_index(times: np.ndarray, rate: float) -> np.ndarray:
    """The low-resolution bin each time falls in: the nearest multiple of 1 / rate."""
    return np.rint(np.asarray(times, np.float64) * rate).astype(np.int64)


def peak_odf(odf: np.ndarray, prominence: float) -> np.ndarray:
    """The z-scored onset strength at its peaks (prominence ≥ `prominence`), 0 elsewhere."""
    z = (odf - odf.mean()) / (odf.std() + 1e-8)
    peaks, _ = signal.find_peaks(z, prominence=prominence)
    out = np.zeros_like(z)
    out[peaks] = z[peaks]
    return out


def bin_max(values: np.ndarray, bins: np.ndarray, n: int) -> np.ndarray:
    """Per low-resolution bin, the largest value (0 where a bin holds no frame or only non-positive ones)."""
    out = np.zeros(n, np.float64)
    np.maximum.at(out, np.clip(bins, 0, n - 1), values)
    return out


def bin_mean(frames: np.ndarray, bins: np.ndarray, n: int, blocks: int) -> np.ndarray:
    """`(F, T)` frames averaged over each time bin and over `blocks` equal groups of rows → `(n, blocks)`."""
    rows = frames.shape[0]
    groups = np.minimum(np.arange(rows) * blocks // rows, blocks - 1)
    grouped = np.stack([frames[groups == g].mean(axis=0) for g in range(blocks)])  # (blocks, T)
    bins = np.clip(bins, 0, n - 1)
    sums = np.zeros((n, blocks))
    np.add.at(sums, bins, grouped.T)
    counts = np.bincount(bins, minlength=n)[:, None]
    filled = sums / np.maximum(counts, 1)
    empty = counts[:, 0] == 0  # a bin finer than the hop: hold the previous bin's value
    for i in np.flatnonzero(empty):
        filled[i] = filled[i - 1] if i else 0.0
    return filled


@register_extractor("lowres_rhythm")
class LowResRhythm(Extractor):
    """Outputs at `rate` Hz (see the module docstring): `odf` (T,) the peak-picked onset strength, `mel`
    (T, bins) the low-resolution mel in dB, `tempogram` (T, bins) the low-resolution tempogram."""

    kind = "audio"
    ranges = {"rate": Range(0, 100, low_inclusive=False), "bins": Range(1, 128), "hop_length": Range(16, 8192),
              "prominence": Range(0)}

    def __init__(self, rate: float = 8.0, bins: int = 16, hop_length: int = 512, prominence: float = 0.05,
                 n_mels: int = 128, tempogram_window: int = 384) -> None:
        if not (0 < rate <= 100 and 1 <= bins <= min(n_mels, tempogram_window)):
            raise UserError(f"features.extractors.lowres_rhythm: need 0 < rate <= 100 and 1 <= bins <= "
                            f"{min(n_mels, tempogram_window)}, got rate {rate}, bins {bins}")
        self.rate, self.bins, self.hop_length = float(rate), int(bins), int(hop_length)
        self.prominence, self.n_mels, self.tempogram_window = float(prominence), int(n_mels), int(tempogram_window)

    def outputs(self) -> dict[str, Feature]:
        series = Feature("series", rate=self.rate)
        return {"odf": series, "mel": series, "tempogram": series}

    def config(self) -> dict:
        return {"rate": self.rate, "bins": self.bins, "hop_length": self.hop_length, "prominence": self.prominence,
                "n_mels": self.n_mels, "tempogram_window": self.tempogram_window}

    def __call__(self, x: tuple[np.ndarray, int]) -> dict[str, np.ndarray]:
        import librosa

        audio, sample_rate = x
        y = np.asarray(audio, dtype=np.float32)
        if y.ndim != 1 or len(y) == 0:
            raise UserError(f"lowres_rhythm: expected mono audio with samples, got shape {y.shape}")
        n_fft = min(2048, max(len(y), 16))
        odf = librosa.onset.onset_strength(y=y, sr=sample_rate, n_fft=n_fft, hop_length=self.hop_length)
        mel = librosa.power_to_db(librosa.feature.melspectrogram(
            y=y, sr=sample_rate, n_fft=n_fft, hop_length=self.hop_length, n_mels=self.n_mels))
        tempogram = librosa.feature.tempogram(onset_envelope=odf, sr=sample_rate, hop_length=self.hop_length,
                                              win_length=self.tempogram_window)
        times = librosa.times_like(odf, sr=sample_rate, hop_length=self.hop_length)
        n = int(np.floor(len(y) / sample_rate * self.rate)) + 1
        bins = bin_index(times, self.rate)
        return {
            "odf": bin_max(peak_odf(odf, self.prominence), bins, n).astype(np.float32),
            "mel": bin_mean(mel, bins, n, self.bins).astype(np.float32),
            "tempogram": bin_mean(tempogram, bins, n, self.bins).astype(np.float32),
        }
