"""Synthetic scenes with known ground truth, shared by the block tests."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class MovingSquareScene:
    clip: Tensor  # (B, 3, T, H, W)
    background: Tensor  # (B, 3, H, W)
    square: Tensor  # (B, 1, T, H, W) bool, true position in every frame
    path: Tensor  # (B, 1, H, W) bool, union of positions


def moving_square_scene(
    batch: int = 2,
    frames: int = 8,
    size: int = 48,
    side: int = 8,
    speed: int = 4,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> MovingSquareScene:
    """A bright square sliding right over a static smooth texture, one texture per clip."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(batch, 3, size // 8, size // 8, generator=generator)
    background = 0.2 + 0.4 * torch.nn.functional.interpolate(
        coarse, size=(size, size), mode="bilinear", align_corners=False
    )
    clip = background.unsqueeze(2).repeat(1, 1, frames, 1, 1)
    square = torch.zeros(batch, 1, frames, size, size, dtype=torch.bool)
    for b in range(batch):
        top = 4 + 6 * b % (size - side - 4)
        for t in range(frames):
            left = 2 + speed * t
            square[b, :, t, top : top + side, left : left + side] = True
    colour = torch.tensor([1.0, 0.95, 0.9]).view(1, 3, 1, 1, 1)
    clip = torch.where(square, colour, clip)
    return MovingSquareScene(clip.to(dtype), background.to(dtype), square, square.any(dim=2))


def iou(mask: Tensor, truth: Tensor) -> float:
    predicted = mask > 0.5
    union = (predicted | truth).sum().item()
    return float((predicted & truth).sum().item() / max(union, 1))


def two_views_of_a_moving_square(batch: int = 4, size: int = 32) -> tuple[Tensor, Tensor]:
    """Two views (B, 3, 8, H, W) of a bright square moving right over random static noise."""
    generator = torch.Generator().manual_seed(0)
    base = torch.rand(batch, 3, 1, size, size, generator=generator).expand(-1, -1, 8, -1, -1)
    moving = base.clone()
    for t in range(8):  # the square moves, so the mixer finds motion
        moving[:, :, t, 10:16, 2 + 3 * t : 8 + 3 * t] = 1.0
    return moving, moving.flip(-2)
