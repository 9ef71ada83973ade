"""Density and coverage (Naeem et al., 2020): fidelity and diversity of a generated set on real manifolds.

Each real sample i gets a ball whose radius is the distance to its k-th nearest real neighbour.
density  = (1 / kM) Σ_j Σ_i 1[‖g_j − r_i‖ < radius_i]   (can exceed 1 when fakes crowd dense real regions)
coverage = (1 / N) Σ_i 1[some g_j lies inside ball i]
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist


def density_coverage(real: np.ndarray, generated: np.ndarray, k: int = 5) -> dict[str, float]:
    """Density and coverage of `generated` (m, d) against `real` (n, d); needs n > k."""
    real, generated = np.asarray(real, np.float64), np.asarray(generated, np.float64)
    if real.shape[0] <= k:
        raise ValueError(f"density/coverage with k={k} needs more than {k} real samples, got {real.shape[0]}")
    real_dist = cdist(real, real)
    # Column 0 of each sorted row is the sample itself (distance 0), so column k is its k-th neighbour.
    radii = np.sort(real_dist, axis=1)[:, k]
    inside = cdist(real, generated) < radii[:, None]  # (n, m)
    return {
        "density": float(inside.sum() / (k * generated.shape[0])),
        "coverage": float(inside.any(axis=1).mean()),
    }
