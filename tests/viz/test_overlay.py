from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias.viz import clip_to_frames, colorize, colormap_lut, fit_heat, overlay

LUT = colormap_lut("viridis")


def _clip(frames: int = 4, size: int = 16) -> torch.Tensor:
    return torch.rand(3, frames, size, size, generator=torch.Generator().manual_seed(0))


# --- blending -----------------------------------------------------------------------------


def test_alpha_zero_returns_the_frames() -> None:
    clip = _clip()
    heat = torch.rand(4, 5, 5)
    expected = clip_to_frames(clip)
    np.testing.assert_array_equal(overlay(clip, heat, alpha=0.0), expected)
    np.testing.assert_array_equal(overlay(expected, heat, alpha=0.0), expected)
    np.testing.assert_array_equal(overlay(torch.from_numpy(expected), heat, alpha=0.0), expected)


def test_alpha_one_returns_the_pure_colour_map() -> None:
    heat = torch.zeros(4, 16, 16)
    heat[:, :, 8:] = 1.0
    out = overlay(_clip(), heat, alpha=1.0)
    assert out.dtype == np.uint8
    assert out.shape == (4, 16, 16, 3)
    assert (out[:, :, :8] == LUT[0]).all()
    assert (out[:, :, 8:] == LUT[255]).all()


def test_blend_is_the_convex_combination() -> None:
    frames = np.full((1, 2, 2, 3), 100, dtype=np.uint8)
    heat = np.array([[0.0, 1.0], [0.0, 1.0]])
    out = overlay(frames, heat, alpha=0.25, colormap="gray")
    np.testing.assert_array_equal(out[0, :, 0], np.full((2, 3), 75))  # 0.75 * 100 + 0.25 * 0
    np.testing.assert_array_equal(out[0, :, 1], np.full((2, 3), 139))  # 75 + 63.75 = 138.75


def test_alpha_by_heat_leaves_cold_pixels_untouched() -> None:
    frames = clip_to_frames(_clip())
    mask = torch.zeros(4, 16, 16)
    mask[:, 4:8, 4:8] = 1.0
    out = overlay(frames, mask, alpha=0.6, normalize="none", alpha_by_heat=True)
    cold = ~mask.bool().numpy()
    np.testing.assert_array_equal(out[cold], frames[cold])
    hot = np.rint(0.4 * frames[~cold].astype(float) + 0.6 * LUT[255].astype(float))
    np.testing.assert_array_equal(out[~cold], hot.astype(np.uint8))


def test_normalised_clip_is_shown_unnormalised() -> None:
    raw = _clip()
    mean, std = (0.45, 0.45, 0.4), (0.25, 0.25, 0.2)
    normalised = (raw - torch.tensor(mean).view(3, 1, 1, 1)) / torch.tensor(std).view(3, 1, 1, 1)
    out = overlay(normalised, torch.rand(4, 4), alpha=0.0, mean=mean, std=std)
    np.testing.assert_array_equal(out, clip_to_frames(raw))


# --- resizing, normalisation and time -----------------------------------------------------


def test_peak_is_hottest_after_resizing() -> None:
    heat = torch.zeros(2, 4, 4)
    heat[0, 1, 2] = 3.0
    heat[1, 3, 0] = 3.0
    # Per frame: bilinear upsampling keeps a border peak whole but spreads an inner one.
    out = overlay(_clip(frames=2), heat, alpha=1.0, normalize="frame")
    hottest = (out == LUT[255]).all(axis=-1)
    for t, (row, col) in enumerate([(1, 2), (3, 0)]):
        ys, xs = np.nonzero(hottest[t])
        assert len(ys) > 0
        # Cell (row, col) of a 4x4 map covers pixels [4 row, 4 row + 4) of the 16x16 frame.
        assert (ys // 4 == row).all()
        assert (xs // 4 == col).all()


def test_min_max_per_clip_per_frame_and_absolute() -> None:
    heat = torch.stack([torch.full((2, 2), 1.0), torch.full((2, 2), 3.0)])
    heat[:, 0, 0] = 0.0
    per_clip = fit_heat(heat, size=(2, 2))
    np.testing.assert_allclose(per_clip[0], [[0.0, 1 / 3], [1 / 3, 1 / 3]])
    np.testing.assert_allclose(per_clip[1], [[0.0, 1.0], [1.0, 1.0]])
    per_frame = fit_heat(heat, size=(2, 2), normalize="frame")
    np.testing.assert_allclose(per_frame[0], per_frame[1])
    absolute = fit_heat(heat, size=(2, 2), normalize="none", value_range=(0.0, 2.0))
    np.testing.assert_allclose(absolute[0], [[0.0, 0.5], [0.5, 0.5]])
    np.testing.assert_allclose(absolute[1], [[0.0, 1.0], [1.0, 1.0]])  # clipped


def test_constant_map_is_cold_under_min_max_but_keeps_its_absolute_value() -> None:
    heat = torch.full((3, 3), 0.5)
    np.testing.assert_array_equal(fit_heat(heat, size=(3, 3)), np.zeros((1, 3, 3)))
    out = overlay(np.zeros((1, 3, 3, 3), np.uint8), heat, alpha=1.0, normalize="none")
    assert (out == LUT[128]).all()


def test_maps_are_matched_in_time() -> None:
    heat = torch.arange(2.0).view(2, 1, 1).expand(2, 3, 3)
    matched = fit_heat(heat, size=(3, 3), frames=6)
    np.testing.assert_array_equal(matched[:, 0, 0], [0, 0, 0, 1, 1, 1])
    single = fit_heat(torch.rand(3, 3), size=(6, 6), frames=5)
    assert single.shape == (5, 6, 6)
    assert all(np.array_equal(single[0], frame) for frame in single)


def test_bool_and_numpy_maps_are_accepted() -> None:
    mask = np.zeros((2, 4, 4), dtype=bool)
    mask[:, 1, 1] = True
    out = overlay(np.zeros((2, 4, 4, 3), np.uint8), mask, alpha=1.0, normalize="none")
    assert (out[:, 1, 1] == LUT[255]).all()
    assert (out[:, 0, 0] == LUT[0]).all()


def test_colorize_keeps_or_sets_the_size() -> None:
    heat = torch.rand(3, 4, 5)
    assert colorize(heat).shape == (3, 4, 5, 3)
    assert colorize(heat, size=(8, 10), colormap="turbo").shape == (3, 8, 10, 3)


@settings(max_examples=15, deadline=None)
@given(
    frames=st.sampled_from([1, 2, 4]),
    ratio=st.sampled_from([1, 2]),
    map_h=st.integers(1, 6),
    map_w=st.integers(1, 6),
    size=st.integers(1, 9),
    alpha=st.floats(0.0, 1.0),
)
def test_output_shape_and_dtype(
    frames: int, ratio: int, map_h: int, map_w: int, size: int, alpha: float
) -> None:
    count = frames * ratio
    clip = torch.rand(3, count, size, size + 1)
    out = overlay(clip, torch.randn(frames, map_h, map_w), alpha=alpha)
    assert out.shape == (count, size, size + 1, 3)
    assert out.dtype == np.uint8


# --- errors -------------------------------------------------------------------------------


FRAMES = np.zeros((4, 8, 8, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("frames", "heat", "kwargs", "error", "message"),
    [
        (FRAMES, torch.rand(4, 4), {"alpha": 1.5}, ValueError,
         "`alpha` must be in the closed interval [0, 1], got 1.5"),
        (FRAMES, torch.rand(4, 4), {"alpha": "0.5"}, TypeError,
         "`alpha` must be a number, got str ('0.5')"),
        (FRAMES, torch.rand(4, 4), {"colormap": "hot"}, ValueError,
         "`colormap` must be one of 'viridis', 'inferno', 'turbo', 'gray'; got 'hot'"),
        (FRAMES, torch.rand(4, 4), {"normalize": "max"}, ValueError,
         "`normalize` must be one of 'clip', 'frame', 'none'; got 'max'"),
        (FRAMES, torch.rand(4, 4), {"value_range": (1.0, 0.0)}, ValueError,
         "`value_range` must be a pair (low, high) of finite numbers with low < high, "
         "got (1.0, 0.0)"),
        (FRAMES, torch.rand(1, 4, 4, 4), {}, ValueError,
         "`heat` must be 2D (H', W') or 3D (T', H', W'), got 4D with shape (1, 4, 4, 4)"),
        (FRAMES, torch.rand(3, 4, 4), {}, ValueError,
         "`heat` has T'=3 maps but the frames have T=4; T' must be 1, 4 or a divisor of 4"),
        (FRAMES, torch.full((4, 4), float("nan")), {}, ValueError,
         "`heat` contains 16 non-finite values (NaN or Inf)"),
        (FRAMES, [[0.0, 1.0]], {}, TypeError,
         "`heat` must be a torch.Tensor or numpy.ndarray, got list"),
        (FRAMES, np.array([["a"]]), {}, TypeError, "`heat` must hold real numbers, got dtype <U1"),
        (FRAMES, torch.zeros(0, 4), {}, ValueError, "`heat` must not have an empty dimension"),
        (FRAMES.astype(np.float32), torch.rand(4, 4), {}, TypeError,
         "`frames` must be a float torch.Tensor clip (C, T, H, W) or uint8 frames (T, H, W, 3), "
         "got a float NumPy array"),
        (FRAMES.astype(np.int32), torch.rand(4, 4), {}, TypeError,
         "`frames` must have dtype uint8 (RGB values 0..255) with shape (T, H, W, 3), got int32"),
        (FRAMES[..., :2], torch.rand(4, 4), {}, ValueError,
         "`frames` must be a 4D uint8 array of shape (T, H, W, 3), got shape (4, 8, 8, 2)"),
        ([[1, 2]], torch.rand(4, 4), {}, TypeError,
         "`frames` must be a numpy.ndarray or torch.Tensor of dtype uint8 with shape "
         "(T, H, W, 3), got list"),
        (torch.rand(3, 4, 8), torch.rand(4, 4), {}, ValueError,
         "`clip` must be a 4D tensor of shape (C, T, H, W), got 3D"),
        (FRAMES, torch.rand(4, 4), {"mean": (0.5, 0.5, 0.5)}, ValueError,
         "`mean` and `std` undo the normalisation of float clips; `frames` is already uint8"),
    ],
)  # fmt: skip
def test_errors(
    frames: object, heat: object, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        overlay(frames, heat, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": (0, 4)}, "`size` must be a pair (H, W) of ints >= 1, got (0, 4)"),
        ({"size": 4}, "`size` must be a pair (H, W) of ints >= 1, got 4"),
        ({"size": (4, 4), "frames": 0}, "`frames` must be an int >= 1, got 0"),
    ],
)
def test_fit_heat_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        fit_heat(torch.rand(2, 3, 3), **kwargs)  # type: ignore[arg-type]


def test_colorize_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("`heat` must be 2D (H', W') or 3D")):
        colorize(torch.rand(4))
    with pytest.raises(ValueError, match=re.escape("`colormap` must be one of")):
        colorize(torch.rand(4, 4), colormap="nope")  # type: ignore[arg-type]
