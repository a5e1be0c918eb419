from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias.blocks.functional import (
    gaussian_blur_maps,
    minmax_normalize_maps,
    otsu_mask,
    otsu_threshold,
    top_fraction_mask,
)


def _between_class_variance(bins: np.ndarray, last_low_bin: int) -> float:
    low, high = bins[bins <= last_low_bin] / 255, bins[bins > last_low_bin] / 255
    if len(low) == 0 or len(high) == 0:
        return 0.0
    w0, w1 = len(low) / len(bins), len(high) / len(bins)
    return float(w0 * w1 * (low.mean() - high.mean()) ** 2)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), modes=st.integers(1, 3))
def test_otsu_threshold_maximises_between_class_variance(seed: int, modes: int) -> None:
    """Against the textbook definition: try every level, none beats the one returned."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.05, 0.95, size=modes)
    values = np.concatenate([rng.normal(c, 0.05, size=60) for c in centres]).clip(0, 1)
    bins = np.round(values * 255).astype(int)
    energy = torch.tensor(values, dtype=torch.float64).view(1, 1, -1)
    threshold = otsu_threshold(energy).item()
    chosen = int(np.floor(threshold * 255))
    # The threshold sits on the upper edge of its bin: the raw split equals the bin split.
    assert np.array_equal(values > threshold, bins > chosen)
    best = max(_between_class_variance(bins, k) for k in range(256))
    assert _between_class_variance(bins, chosen) == pytest.approx(best, rel=1e-9)


def test_otsu_separates_two_clear_modes_exactly() -> None:
    energy = torch.zeros(1, 10, 10)
    energy[0, :3, :3] = 1.0
    energy[0, 5:, :] = 0.1
    mask = otsu_mask(energy)
    assert torch.equal(mask > 0, energy > 0.5)


def test_top_fraction_breaks_ties_and_counts_exactly() -> None:
    energy = torch.tensor([[[0.0, 1.0, 1.0, 1.0]]])
    mask = top_fraction_mask(energy, 0.5)
    assert mask.sum() == 2
    assert mask[0, 0, 0] == 0


def test_blur_preserves_constants_and_mass_centre() -> None:
    constant = torch.full((2, 9, 9), 0.7)
    torch.testing.assert_close(gaussian_blur_maps(constant, 5), constant)
    impulse = torch.zeros(1, 9, 9)
    impulse[0, 4, 4] = 1.0
    blurred = gaussian_blur_maps(impulse, 5)
    assert blurred.argmax() == 4 * 9 + 4
    torch.testing.assert_close(blurred.sum(), torch.tensor(1.0))
    torch.testing.assert_close(blurred[0], blurred[0].T)


def test_minmax_normalisation_of_constant_maps_is_zero() -> None:
    maps = torch.stack([torch.full((3, 3), 5.0), torch.arange(9.0).view(3, 3)])
    out = minmax_normalize_maps(maps)
    assert out[0].abs().sum() == 0
    torch.testing.assert_close(out[1], torch.arange(9.0).view(3, 3) / 8)


def test_blur_stays_float32_under_autocast() -> None:
    """Regression: under CPU bf16 autocast the blur's conv2d ran (and returned) in bf16."""
    maps = torch.rand(4, 32, 32, generator=torch.Generator().manual_seed(0))
    full = gaussian_blur_maps(maps, 5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = gaussian_blur_maps(maps, 5)
    assert mixed.dtype == full.dtype == torch.float32
    assert torch.equal(mixed, full)
