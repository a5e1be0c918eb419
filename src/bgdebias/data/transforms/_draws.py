"""Per-clip random draws, made on the generator's device (CPU without one)."""

from __future__ import annotations

import torch
from torch import Tensor

from bgdebias._random import draw_device


def uniform(
    low: float, high: float, shape: tuple[int, ...], generator: torch.Generator | None
) -> Tensor:
    device = draw_device(generator)
    return low + (high - low) * torch.rand(shape, generator=generator, device=device)


def bernoulli(p: float, num_clips: int, generator: torch.Generator | None) -> Tensor:
    device = draw_device(generator)
    return torch.rand(num_clips, generator=generator, device=device) < p


def per_clip(values: Tensor, batch: Tensor) -> Tensor:
    """Per-clip values ``(B,)`` as ``(B, 1, 1, 1, 1)`` on the batch's device and dtype."""
    dtype = batch.dtype if values.is_floating_point() else values.dtype
    return values.to(device=batch.device, dtype=dtype).view(-1, 1, 1, 1, 1)
