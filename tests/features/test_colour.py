"""Colour histograms: normalised, and colours land in the bins the docstring promises."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.errors import UserError
from toolkit.features.colour import colour_histograms
from toolkit.features.registry import get_extractor


def test_pure_colours_land_in_their_bins(frames_of, solid_frames):
    array = np.concatenate(
        [
            solid_frames((255, 0, 0), 1),
            solid_frames((0, 0, 255), 1),
            solid_frames((255, 255, 255), 1),
            solid_frames((0, 0, 0), 1),
        ]
    )
    hist = get_extractor("colour", bins=8)(frames_of(array))["histogram"]
    assert hist.shape == (4, 512)
    red, blue, white, black = (7 * 64, 7, 511, 0)
    for row, bin_index in zip(hist, [red, blue, white, black], strict=True):
        assert row[bin_index] == 1.0 and row.sum() == 1.0


def test_rows_sum_to_one_and_mixtures_split():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, size=(3, 17, 23, 3), dtype=np.uint8)  # odd sizes on purpose
    hist = colour_histograms(noise, bins=4)
    np.testing.assert_allclose(hist.sum(axis=1), 1.0, rtol=1e-6)
    assert (hist >= 0).all()
    half = np.zeros((1, 2, 2, 3), dtype=np.uint8)
    half[0, 0] = (255, 0, 0)  # top row red, bottom row black
    np.testing.assert_allclose(colour_histograms(half, bins=2)[0], [0.5, 0, 0, 0, 0.5, 0, 0, 0])


def test_values_are_shared_linearly_between_the_nearest_bin_centres():
    # bins=4: centres at 32, 96, 160, 224; 64 lies halfway between the first two; the ends clamp.
    values = np.array([0, 32, 48, 64, 96, 224, 255], dtype=np.uint8)
    frames = np.zeros((len(values), 1, 1, 3), dtype=np.uint8)
    frames[:, 0, 0, 2] = values  # blue channel only: bin index = blue bin
    hist = colour_histograms(frames, bins=4)[:, :4]
    expected = [[1, 0, 0, 0], [1, 0, 0, 0], [0.75, 0.25, 0, 0], [0.5, 0.5, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1],
                [0, 0, 0, 1]]
    np.testing.assert_allclose(hist, expected, atol=1e-6)


def test_a_small_change_of_colour_moves_little_mass_even_across_a_bin_edge():
    """A beat flash of 6 grey levels on a colour just below a hard bin edge (160 at 8 bins) moved all the
    mass to the next bin; shared binning moves 6/32 of it per channel, so it is not mistaken for a cut."""
    before = np.full((1, 4, 4, 3), (157, 140, 120), dtype=np.uint8)
    after = before + 6
    hist = colour_histograms(np.concatenate([before, after]), bins=8)
    distance = 0.5 * np.abs(hist[0] - hist[1]).sum()
    assert 0 < distance <= 3 * 6 / 32 + 1e-6


def test_bad_input():
    with pytest.raises(UserError, match="uint8"):
        colour_histograms(np.zeros((1, 4, 4, 3), dtype=np.float32))
    with pytest.raises(UserError, match="bins"):
        colour_histograms(np.zeros((1, 4, 4, 3), dtype=np.uint8), bins=0)
