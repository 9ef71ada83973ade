"""FAD: zero on identical sets, the closed form on Gaussians, FAD-∞'s fit, sensible on audio embeddings.

The interval's coverage of the population FD is simulated in `test_fad_coverage.py`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.linalg import sqrtm

from toolkit.metrics import fad as fad_module
from toolkit.metrics.embeddings import MelStatsEmbedding
from toolkit.metrics.fad import extrapolate_to_infinity, fad, fad_ci, fad_inf, frechet_distance, gaussian_fit


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


def test_gaussian_fit_ddof_zero_is_the_empirical_covariance(rng):
    x = rng.normal(size=(7, 3))
    _, cov = gaussian_fit(x, ddof=0)
    centred = x - x.mean(axis=0)
    assert cov == pytest.approx(centred.T @ centred / 7)


def test_line_through_exact_one_over_n_values():
    sizes = np.array([10, 20, 40, 80])
    assert extrapolate_to_infinity(sizes, 3.0 + 50.0 / sizes) == pytest.approx((3.0, 50.0, 1.0))


@pytest.fixture
def exact_one_over_n(monkeypatch):
    """FAD replaced by 3 + 50/N_generated + 20/N_reference, so FAD-∞ must come out at exactly 3."""
    monkeypatch.setattr(fad_module, "gaussian_fit", lambda x: (x.shape[0], None))
    monkeypatch.setattr(fad_module, "frechet_distance", lambda n_ref, _a, n_gen, _b: 3.0 + 50.0 / n_gen + 20.0 / n_ref)


def test_fad_inf_extrapolates_an_exact_one_over_n_dependence(exact_one_over_n):
    generated, reference = np.zeros((100, 2)), np.zeros((100, 2))
    fixed = fad_inf(reference, generated, steps=5, draws=2)
    # Reference statistics come from the full set (20/100 stays in the intercept), as fadtk and FID-∞ do.
    assert (fixed.score, fixed.slope, fixed.r2) == pytest.approx((3.2, 50.0, 1.0))
    assert sorted(set(fixed.sizes)) == [20, 40, 60, 80, 100]  # from a fifth of the set to all of it
    assert list(fixed.sizes).count(100) == 1 and list(fixed.sizes).count(20) == 2
    scaled = fad_inf(reference, generated, steps=5, draws=2, scale_reference=True)
    assert (scaled.score, scaled.slope) == pytest.approx((3.0, 70.0))


def test_fad_inf_is_seeded_and_checks_its_sizes(rng):
    a, b = rng.normal(size=(80, 4)), rng.normal(size=(60, 4)) + 0.5
    assert fad_inf(a, b, seed=3).score == fad_inf(a, b, seed=3).score
    assert fad_inf(a, b, seed=3).score != fad_inf(a, b, seed=4).score
    with pytest.raises(ValueError, match="min_size"):
        fad_inf(a, b, min_size=61)
    with pytest.raises(ValueError, match="two subset sizes"):
        fad_inf(a, b, min_size=60)


def test_fad_inf_of_disjoint_halves_of_one_sample_is_near_zero(rng):
    x = rng.normal(size=(4000, 4))
    result = fad_inf(x[:2000], x[2000:], scale_reference=True)
    assert abs(result.score) < 0.01 < fad(x[:200], x[2000:2200])


def test_fad_ci_warns_below_two_windows_per_dimension(rng):
    with pytest.warns(UserWarning, match=r"20 windows of 16 dims .* estimator's spread"):
        fad_ci(rng.normal(size=(20, 16)), rng.normal(size=(30, 16)), n_resamples=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fad_ci(rng.normal(size=(32, 16)), rng.normal(size=(32, 16)), n_resamples=20)


def test_fad_ci_resamples_clips_with_their_windows(rng):
    ref, gen = rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) + 1.0
    rows = fad_ci(ref, gen, n_resamples=100, seed=5)
    one_window_clips = fad_ci(list(ref[:, None, :]), list(gen[:, None, :]), n_resamples=100, seed=5)
    assert one_window_clips == pytest.approx(rows)
    # Windows of one clip share the clip's offset: treating them as independent understates the spread.
    ref_clips = rng.normal(size=(10, 1, 3)) + 0.1 * rng.normal(size=(10, 4, 3))
    gen_clips = rng.normal(size=(10, 1, 3)) + 0.1 * rng.normal(size=(10, 4, 3)) + 1.0
    by_clip = fad_ci(list(ref_clips), list(gen_clips), n_resamples=200, seed=5)
    by_window = fad_ci(ref_clips.reshape(40, 3), gen_clips.reshape(40, 3), n_resamples=200, seed=5)
    assert by_clip[1] - by_clip[0] > 1.5 * (by_window[1] - by_window[0])
    # A set against itself under paired resampling: every resample is identical on both sides.
    assert fad_ci(list(ref.reshape(10, 4, 3)), list(ref.reshape(10, 4, 3)), n_resamples=50, paired=True) == (0.0, 0.0)


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
