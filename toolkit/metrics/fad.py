"""Fréchet distance between Gaussian fits of two embedding sets (FAD with VGGish, "FD" with PANNs, ...).

The embedding model is pluggable (see `toolkit.metrics.embeddings`); outputs name it, e.g. `fad[mel-stats]`.

Plain FAD is biased upward at finite sample sizes, by about d²/2n for n windows of d dims (two samples of one
distribution: 43 at d=128, n=200). `fad_inf` extrapolates that bias away (FAD-∞); `fad_ci` gives an interval
for the population FD that accounts for it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from toolkit.metrics.bootstrap import basic_interval, resample_statistic

Embeddings = np.ndarray | Sequence[np.ndarray]


def gaussian_fit(embeddings: np.ndarray, ddof: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of `embeddings` (n, d), unbiased by default (`ddof=0`: the empirical distribution's
    own covariance); needs n >= 2."""
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need a (n>=2, d) array of embeddings, got shape {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False, ddof=ddof).reshape(x.shape[1], x.shape[1])


def frechet_distance(mu_a: np.ndarray, cov_a: np.ndarray, mu_b: np.ndarray, cov_b: np.ndarray,
                     root_a: np.ndarray | None = None) -> float:
    """‖μa−μb‖² + Tr(Σa + Σb − 2(ΣaΣb)^½) for two Gaussians.

    Tr((ΣaΣb)^½) is computed as Σ√λ of the symmetric PSD matrix Σa^½ Σb Σa^½, which has the same
    eigenvalues as ΣaΣb; unlike `scipy.linalg.sqrtm` on the non-symmetric product, this never turns
    complex or blows up on the rank-deficient covariances that few samples give. `root_a` (`psd_sqrt(cov_a)`)
    saves its eigendecomposition when one reference is compared with many sets.
    """
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    cov_a, cov_b = np.atleast_2d(cov_a).astype(np.float64), np.atleast_2d(cov_b).astype(np.float64)
    root_a = psd_sqrt(cov_a) if root_a is None else root_a
    middle = root_a @ cov_b @ root_a
    eigvals = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_cross = np.sqrt(np.clip(eigvals, 0.0, None)).sum()
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_cross
    return float(max(value, 0.0))  # tiny negatives are round-off


def fad(reference: np.ndarray, generated: np.ndarray) -> float:
    """Fréchet distance between the Gaussian fits of `reference` (n, d) and `generated` (m, d) embeddings."""
    return frechet_distance(*gaussian_fit(reference), *gaussian_fit(generated))


@dataclass(frozen=True)
class FadInf:
    """FAD-∞ and the fit behind it: FAD at each subset size N against 1/N, `score` the intercept (N → ∞).

    `sizes` and `values` hold one entry per subset drawn (generated-set size N, FAD); `r2` is the fit's R²,
    low when FAD is not linear in 1/N over the sizes used (sizes too small for the dimension).
    """

    score: float
    slope: float
    r2: float
    sizes: np.ndarray
    values: np.ndarray


def extrapolate_to_infinity(sizes: np.ndarray, values: np.ndarray) -> tuple[float, float, float]:
    """(intercept, slope, R²) of the least-squares line `values ≈ intercept + slope / sizes`."""
    x, y = 1.0 / np.asarray(sizes, np.float64), np.asarray(values, np.float64)
    slope, intercept = np.polyfit(x, y, 1)
    residual = np.sum((y - (intercept + slope * x)) ** 2)
    spread = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - residual / spread if spread > 0 else 1.0
    return float(intercept), float(slope), float(r2)


def fad_inf(
    reference: np.ndarray,
    generated: np.ndarray,
    min_size: int | None = None,
    steps: int = 10,
    draws: int = 3,
    replace: bool = False,
    scale_reference: bool = False,
    seed: int = 0,
) -> FadInf:
    """FAD-∞ (Chong & Forsyth 2020's FID-∞, fadtk's `score_inf`): FAD extrapolated to infinitely many samples.

    FAD is computed between `reference` and random subsets of `generated` of `steps` sizes N, evenly spaced
    from `min_size` (default: a fifth of the generated set, at least 2) to the full set, `draws` subsets per
    size (one at the full size when drawing without replacement: there is only one), seeded. A line is fitted
    to FAD against 1/N; its intercept is FAD-∞.

    Conventions, which change what the intercept estimates:

    - `replace=False` (Chong & Forsyth): subsets without replacement. Each is itself a sample of the generating
      distribution, so the intercept removes the generated side's 1/N bias. `replace=True` is fadtk's choice
      (25 sizes from 500 frames, one draw each): draws with replacement are samples of the *empirical*
      distribution, so the intercept only removes the resampling's own 1/N term and stays close to plain FAD
      on the full set.
    - `scale_reference=False` (both papers): the reference statistics come from the full reference set and
      keep their own bias, small when the reference set is large. `True` subsamples the reference to the same
      fraction N/m, so both sets' 1/n terms vanish at the intercept: use it when the reference set is no larger
      than the generated one (the suite's paired clips).

    The intercept can be slightly negative when the population FD is near zero.
    """
    reference, generated = np.asarray(reference, np.float64), np.asarray(generated, np.float64)
    m, n_ref = generated.shape[0], reference.shape[0]
    low = max(2, m // 5) if min_size is None else int(min_size)
    if not 2 <= low <= m:
        raise ValueError(f"fad_inf: min_size must be in [2, {m}] (the generated set's size), got {low}")
    rng = np.random.default_rng(seed)
    mu_ref, cov_ref = gaussian_fit(reference)
    sizes, values = [], []
    for size in np.unique(np.round(np.linspace(low, m, steps)).astype(int)):
        for _ in range(1 if size == m and not replace else draws):
            subset = generated[rng.choice(m, size=size, replace=replace)]
            if scale_reference:
                ref_size = max(2, round(n_ref * size / m))
                ref_fit = gaussian_fit(reference[rng.choice(n_ref, size=ref_size, replace=replace)])
            else:
                ref_fit = (mu_ref, cov_ref)
            sizes.append(size)
            values.append(frechet_distance(*ref_fit, *gaussian_fit(subset)))
    if len(set(sizes)) < 2:
        raise ValueError(f"fad_inf: needs at least two subset sizes, got {sorted(set(sizes))}")
    sizes, values = np.asarray(sizes), np.asarray(values)
    score, slope, r2 = extrapolate_to_infinity(sizes, values)
    return FadInf(score, slope, r2, sizes, values)


def fad_ci(
    reference: Embeddings,
    generated: Embeddings,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    paired: bool = False,
    estimator: Callable[[np.ndarray, np.ndarray], float] = fad,
) -> tuple[float, float]:
    """Bootstrap interval for the population FD between the distributions behind two embedding sets.

    Each set is an (n, d) array (rows are resampled) or a sequence of per-clip (windows, d) arrays (clips are
    resampled, their windows together, since windows of one clip are not independent); `paired` resamples
    item j of both sets together (a generated clip and the reference clip of the same video). Both sets are
    always resampled.

    A percentile interval of FAD cannot cover the population FD: FAD is biased upward by about d²/2n, and its
    resamples, with duplicated items, by about that much again. So this is the basic (pivotal) bootstrap:
    `estimator − (FAD* − FD_boot)` at the 97.5% and 2.5% quantiles of the resamples' FAD*, where FD_boot is the
    FD between the empirical distributions themselves (the bootstrap world's truth), clipped at 0. The
    interval then carries the bias correction and may lie below the plain FAD value. `estimator` is the
    point estimate the pivot is built on (plain `fad`; a FAD-∞ callable works too, at its cost per resample).

    Warns when a set has fewer than 2·d windows: the bias is then too large and uncertain for the correction,
    and the interval describes the estimator's spread, not where the population FD lies.
    """
    ref, gen = _Units(reference), _Units(generated)
    windows, dims = min(ref.windows.shape[0], gen.windows.shape[0]), ref.windows.shape[1]
    if windows < 2 * dims:
        warnings.warn(
            f"FAD interval from {windows} windows of {dims} dims (fewer than 2 x dims): it describes the "
            "estimator's spread, not where the population FD lies",
            stacklevel=2,
        )
    estimate = float(estimator(ref.windows, gen.windows))
    plug_in = frechet_distance(*gaussian_fit(ref.windows, ddof=0), *gaussian_fit(gen.windows, ddof=0))

    def resampled(ref_idx: np.ndarray, gen_idx: np.ndarray) -> float:
        return estimator(ref.windows[ref.rows(ref_idx)], gen.windows[gen.rows(gen_idx)])

    values = resample_statistic([ref.count, gen.count], resampled, n_resamples, seed, paired)
    return basic_interval(values, estimate, plug_in, confidence, bounds=(0.0, np.inf))


class _Units:
    """Embeddings grouped into resampling units (rows, or clips of windows), stacked once."""

    def __init__(self, embeddings: Embeddings):
        if isinstance(embeddings, np.ndarray) and embeddings.ndim == 2:
            self.windows = np.asarray(embeddings, np.float64)
            self.lengths = np.ones(self.windows.shape[0], dtype=int)
        else:
            clips = [np.atleast_2d(np.asarray(c, np.float64)) for c in embeddings]
            if not clips:
                raise ValueError("need at least one clip of embeddings")
            self.windows = np.concatenate(clips)
            self.lengths = np.array([c.shape[0] for c in clips])
        self.starts = np.cumsum(self.lengths) - self.lengths
        self.count = self.lengths.size

    def rows(self, idx: np.ndarray) -> np.ndarray:
        if np.all(self.lengths == 1):
            return idx
        lengths = self.lengths[idx]
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return np.repeat(self.starts[idx], lengths) + offsets


def psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a PSD matrix (negative round-off eigenvalues clipped to 0)."""
    eigvals, eigvecs = np.linalg.eigh((matrix + matrix.T) / 2)
    return (eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))) @ eigvecs.T
