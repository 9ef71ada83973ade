"""Fréchet distance between Gaussian fits of two embedding sets (FAD with VGGish, "FD" with PANNs, ...).

The embedding model is pluggable (see `toolkit.metrics.embeddings`); outputs name it, e.g. `fad[mel-stats]`.
"""

from __future__ import annotations

import numpy as np


def gaussian_fit(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of `embeddings` (n, d); needs n >= 2."""
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need a (n>=2, d) array of embeddings, got shape {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def frechet_distance(mu_a: np.ndarray, cov_a: np.ndarray, mu_b: np.ndarray, cov_b: np.ndarray) -> float:
    """‖μa−μb‖² + Tr(Σa + Σb − 2(ΣaΣb)^½) for two Gaussians.

    Tr((ΣaΣb)^½) is computed as Σ√λ of the symmetric PSD matrix Σa^½ Σb Σa^½, which has the same
    eigenvalues as ΣaΣb; unlike `scipy.linalg.sqrtm` on the non-symmetric product, this never turns
    complex or blows up on the rank-deficient covariances that few samples give.
    """
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    cov_a, cov_b = np.atleast_2d(cov_a).astype(np.float64), np.atleast_2d(cov_b).astype(np.float64)
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    eigvals = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_cross = np.sqrt(np.clip(eigvals, 0.0, None)).sum()
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_cross
    return float(max(value, 0.0))  # tiny negatives are round-off


def fad(reference: np.ndarray, generated: np.ndarray) -> float:
    """Fréchet distance between the Gaussian fits of `reference` (n, d) and `generated` (m, d) embeddings."""
    return frechet_distance(*gaussian_fit(reference), *gaussian_fit(generated))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    eigvals, eigvecs = np.linalg.eigh((matrix + matrix.T) / 2)
    return (eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))) @ eigvecs.T
