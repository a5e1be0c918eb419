"""Turn float clips into uint8 RGB frames, undoing a normalisation if asked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from bgdebias._validation import check_floating, check_ndim, check_tensor

#: uint8 RGB frames. Shape: ``(T, H, W, 3)``.
Frames = npt.NDArray[np.uint8]


def clip_to_frames(
    clip: Tensor,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> Frames:
    """Convert one float clip to uint8 RGB frames.

    With ``mean`` and ``std`` the clip is taken as normalised, ``(x - mean) / std`` per
    channel, and that is undone first. Values are then clipped to [0, 1], scaled by 255
    and rounded. A single-channel clip is shown in grey.

    Args:
        clip: One float clip in [0, 1] (after undoing the normalisation).
            Shape: ``(C, T, H, W)`` with ``C`` in {1, 3}.
        mean: Per-channel mean of the normalisation (``C`` numbers), or ``None``.
        std: Per-channel standard deviation (``C`` positive numbers), or ``None``.

    Returns:
        The frames. Shape: ``(T, H, W, 3)``, uint8.

    Raises:
        TypeError: ``clip`` is not a float tensor.
        ValueError: ``clip`` is not 4D with 1 or 3 channels, or ``mean``/``std`` do not
            match its channels.

    Example:
        >>> import torch
        >>> from bgdebias.viz import clip_to_frames
        >>> clip = torch.full((3, 2, 4, 4), 0.5)  # (C, T, H, W)
        >>> frames = clip_to_frames(clip)
        >>> frames.shape, frames.dtype, int(frames[0, 0, 0, 0])  # round(0.5 * 255)
        ((2, 4, 4, 3), dtype('uint8'), 128)
        >>> normalised = (clip - 0.5) / 0.25  # all zeros; mean and std undo it
        >>> int(clip_to_frames(normalised, mean=[0.5] * 3, std=[0.25] * 3)[0, 0, 0, 0])
        128
    """
    check_tensor(clip, "clip")
    check_ndim(clip, "clip", 4, "(C, T, H, W)")
    check_floating(clip, "clip")
    channels = clip.shape[0]
    if channels not in (1, 3):
        raise ValueError(
            f"`clip` must have 1 (grey) or 3 (RGB) channels in dimension C of (C, T, H, W), "
            f"got C={channels} in shape {tuple(clip.shape)}"
        )
    if min(clip.shape) == 0:
        raise ValueError(f"`clip` must not have an empty dimension, got shape {tuple(clip.shape)}")
    values = clip.detach().to(device="cpu", dtype=torch.float64)
    shift = _per_channel(mean, "mean", channels, positive=False)
    scale = _per_channel(std, "std", channels, positive=True)
    values = values * scale.view(-1, 1, 1, 1) + shift.view(-1, 1, 1, 1)
    rgb = values.expand(3, -1, -1, -1) if channels == 1 else values
    scaled = (rgb.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    return np.ascontiguousarray(scaled.permute(1, 2, 3, 0).numpy())


def _per_channel(values: Any, name: str, channels: int, *, positive: bool) -> Tensor:
    if values is None:
        return torch.full((channels,), 1.0 if positive else 0.0, dtype=torch.float64)
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | Tensor | np.ndarray):
        raise TypeError(
            f"`{name}` must be a sequence of {channels} numbers or None, "
            f"got {type(values).__name__}"
        )
    numbers = torch.as_tensor(values, dtype=torch.float64).flatten()
    if numbers.numel() != channels:
        raise ValueError(
            f"`{name}` must hold one number per channel ({channels}), got {numbers.numel()}: "
            f"{list(numbers.tolist())}"
        )
    if not bool(torch.isfinite(numbers).all()) or (positive and not bool((numbers > 0).all())):
        allowed = "finite numbers > 0" if positive else "finite numbers"
        raise ValueError(f"`{name}` must hold {allowed}, got {list(numbers.tolist())}")
    return numbers
