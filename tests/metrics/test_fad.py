"""FAD: zero on identical sets, the closed form on Gaussians, sensible on audio embeddings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import sqrtm

from toolkit.metrics.embeddings import MelStatsEmbedding
from toolkit.metrics.fad import fad, frechet_distance, gaussian_fit


def test_fad_of_a_set_against_itself_is_zero(rng):
    x = rng.normal(size=(200, 16))
    assert fad(x, x) == pytest.approx(0.0, abs=1e-8)


def test_diagonal_gaussians_match_the_closed_form(rng):
    # For diagonal covariances the trace term reduces to Σ(σa − σb)².
    mu_a, mu_b = rng.normal(size=6), rng.normal(size=6)
    sd_a, sd_b = rng.uniform(0.5, 2.0, 6), rng.uniform(0.5, 2.0, 6)
    closed = np.sum((mu_a - mu_b) ** 2) + np.sum((sd_a - sd_b) ** 2)
    value = frechet_distance(mu_a, np.diag(sd_a**2), mu_b, np.diag(sd_b**2))
    assert value == pytest.approx(closed, rel=1e-10)


def test_samples_from_two_gaussians_converge_to_the_closed_form(rng):
    mu_a, mu_b = np.zeros(4), np.array([1.0, -1.0, 0.5, 0.0])
    sd_a, sd_b = np.array([1.0, 2.0, 0.5, 1.0]), np.array([1.5, 1.0, 0.5, 3.0])
    a = mu_a + sd_a * rng.normal(size=(40000, 4))
    b = mu_b + sd_b * rng.normal(size=(40000, 4))
    closed = np.sum((mu_a - mu_b) ** 2) + np.sum((sd_a - sd_b) ** 2)
    assert fad(a, b) == pytest.approx(closed, rel=0.02)


def test_full_covariances_agree_with_the_textbook_sqrtm_formula(rng):
    a, b = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)), rng.normal(size=(300, 5)) + 0.3
    (mu_a, cov_a), (mu_b, cov_b) = gaussian_fit(a), gaussian_fit(b)
    textbook = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * np.real(sqrtm(cov_a @ cov_b)))
    assert fad(a, b) == pytest.approx(textbook, rel=1e-6)


def test_fad_is_symmetric_and_grows_with_a_mean_shift(rng):
    a = rng.normal(size=(500, 3))
    near, far = rng.normal(size=(500, 3)) + 0.1, rng.normal(size=(500, 3)) + 1.0
    assert fad(a, far) == pytest.approx(fad(far, a))
    assert fad(a, near) < fad(a, far)


def test_too_few_embeddings_is_an_error():
    with pytest.raises(ValueError, match="n>=2"):
        fad(np.zeros((1, 4)), np.zeros((5, 4)))


def test_mel_stats_separates_tones_from_noise(rng):
    model = MelStatsEmbedding()
    t = np.arange(model.sample_rate * 3) / model.sample_rate
    tones = [model.embed(np.sin(2 * np.pi * f * t).astype(np.float32)) for f in (220, 330, 440, 550)]
    noises = [model.embed(rng.normal(0, 0.3, t.size).astype(np.float32)) for _ in range(4)]
    tones2 = [model.embed(np.sin(2 * np.pi * f * t).astype(np.float32)) for f in (247, 370, 494, 587)]
    assert tones[0].shape == (5, 128)  # 1 s windows, 0.5 s hop over 3 s; mean and std of 64 bands
    tones, noises, tones2 = np.concatenate(tones), np.concatenate(noises), np.concatenate(tones2)
    assert fad(tones, tones) == pytest.approx(0.0, abs=1e-6)
    assert fad(tones, tones2) < fad(tones, noises)
