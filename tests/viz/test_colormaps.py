from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias.viz import COLORMAPS, apply_colormap, colormap_lut

DOCUMENTED_ENDS = {
    "viridis": ((68, 1, 84), (253, 231, 37)),
    "inferno": ((0, 0, 4), (252, 255, 164)),
    "turbo": ((48, 18, 59), (122, 4, 3)),
    "gray": ((0, 0, 0), (255, 255, 255)),
}


def _lightness(rgb: np.ndarray) -> np.ndarray:
    """CIE L* of sRGB colours, straight from the definition."""
    c = rgb.astype(np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = linear @ np.array([0.2126, 0.7152, 0.0722])
    lightness: np.ndarray = np.where(y > 216 / 24389, 116 * np.cbrt(y) - 16, y * 24389 / 27)
    return lightness


@pytest.mark.parametrize("name", COLORMAPS)
def test_ends_are_the_documented_colours(name: str) -> None:
    lut = colormap_lut(name)  # type: ignore[arg-type]
    assert lut.shape == (256, 3)
    assert lut.dtype == np.uint8
    low, high = DOCUMENTED_ENDS[name]
    assert tuple(lut[0]) == low
    assert tuple(lut[-1]) == high
    assert tuple(apply_colormap(np.array(0.0), name)) == low  # type: ignore[arg-type]
    assert tuple(apply_colormap(np.array(1.0), name)) == high  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["viridis", "inferno", "gray"])
def test_sequential_maps_grow_in_lightness(name: str) -> None:
    lightness = _lightness(colormap_lut(name))  # type: ignore[arg-type]
    # Rounding to uint8 may wobble by far less than a just noticeable difference (~1 L*).
    assert np.diff(lightness).min() > -0.05
    assert lightness[-1] - lightness[0] > 60


def test_turbo_is_a_rainbow_cold_blue_to_hot_red() -> None:
    lut = colormap_lut("turbo").astype(int)
    assert lut[20, 2] > lut[20, 0]  # blue end
    assert lut[235, 0] > lut[235, 2]  # red end


def test_values_are_clipped_and_nan_is_cold() -> None:
    lut = colormap_lut("viridis")
    colours = apply_colormap(np.array([-3.0, 0.0, 0.5, 1.0, 7.0, np.nan]), "viridis")
    np.testing.assert_array_equal(colours, lut[[0, 0, 128, 255, 255, 0]])


def test_table_is_read_only() -> None:
    with pytest.raises(ValueError, match="read-only"):
        colormap_lut("viridis")[0, 0] = 1


def test_unknown_colormap() -> None:
    message = "`colormap` must be one of 'viridis', 'inferno', 'turbo', 'gray'; got 'jet'"
    with pytest.raises(ValueError, match=re.escape(message)):
        colormap_lut("jet")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape(message)):
        apply_colormap(np.zeros(3), "jet")  # type: ignore[arg-type]


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3), name=st.sampled_from(COLORMAPS))
def test_output_shape_adds_a_colour_axis(shape: list[int], name: str) -> None:
    values = np.random.default_rng(0).random(shape)
    colours = apply_colormap(values, name)  # type: ignore[arg-type]
    assert colours.shape == (*shape, 3)
    assert colours.dtype == np.uint8
