from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from bgdebias.viz import clip_to_frames


def test_values_are_scaled_rounded_and_clipped() -> None:
    clip = torch.zeros(3, 2, 1, 3)
    clip[0, 0, 0] = torch.tensor([0.0, 0.5, 1.0])
    clip[1, 1, 0] = torch.tensor([-0.2, 1.5, 0.1])
    frames = clip_to_frames(clip)
    assert frames.shape == (2, 1, 3, 3)
    assert frames.dtype == np.uint8
    np.testing.assert_array_equal(frames[0, 0, :, 0], [0, 128, 255])
    np.testing.assert_array_equal(frames[1, 0, :, 1], [0, 255, 26])
    assert frames[:, :, :, 2].max() == 0


def test_grey_clip_repeats_its_channel() -> None:
    clip = torch.rand(1, 3, 4, 5)
    frames = clip_to_frames(clip)
    assert frames.shape == (3, 4, 5, 3)
    np.testing.assert_array_equal(frames[..., 0], frames[..., 1])
    np.testing.assert_array_equal(frames[..., 0], frames[..., 2])


def test_normalisation_is_undone() -> None:
    raw = torch.rand(3, 2, 4, 4)
    mean, std = (0.43, 0.39, 0.37), (0.23, 0.22, 0.22)
    normalised = (raw - torch.tensor(mean).view(3, 1, 1, 1)) / torch.tensor(std).view(3, 1, 1, 1)
    np.testing.assert_array_equal(
        clip_to_frames(normalised, mean=mean, std=std), clip_to_frames(raw)
    )


@pytest.mark.parametrize(
    ("clip", "kwargs", "error", "message"),
    [
        (np.zeros((3, 2, 4, 4)), {}, TypeError, "`clip` must be a torch.Tensor, got ndarray"),
        (
            torch.zeros(2, 3, 2, 4, 4),
            {},
            ValueError,
            "`clip` must be a 4D tensor of shape (C, T, H, W)",
        ),
        (
            torch.zeros(3, 2, 4, 4, dtype=torch.uint8),
            {},
            TypeError,
            "`clip` must have a floating-point dtype",
        ),
        (
            torch.zeros(2, 2, 4, 4),
            {},
            ValueError,
            "`clip` must have 1 (grey) or 3 (RGB) channels in dimension C of (C, T, H, W), got C=2",
        ),
        (torch.zeros(3, 0, 4, 4), {}, ValueError, "`clip` must not have an empty dimension"),
        (
            torch.zeros(3, 2, 4, 4),
            {"mean": (0.5, 0.5)},
            ValueError,
            "`mean` must hold one number per channel (3), got 2",
        ),
        (
            torch.zeros(3, 2, 4, 4),
            {"std": (1.0, 0.0, 1.0)},
            ValueError,
            "`std` must hold finite numbers > 0, got [1.0, 0.0, 1.0]",
        ),
        (
            torch.zeros(3, 2, 4, 4),
            {"mean": "0.5"},
            TypeError,
            "`mean` must be a sequence of 3 numbers or None, got str",
        ),
    ],
)
def test_errors(
    clip: object, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        clip_to_frames(clip, **kwargs)  # type: ignore[arg-type]
