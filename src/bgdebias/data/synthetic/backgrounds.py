"""Procedural background textures, one recognisable family per class.

A family fixes a pattern (stripes of one orientation, checkerboard, smooth blobs, rings,
dots, fine speckle) and a hue (family ``k`` is centred on hue ``k / 8``); each video draws
its own period, phase, orientation jitter, colours and noise, so no two backgrounds are
equal but the family is obvious. Values stay in ``[0.1, 0.75]``, below the white sprite.
"""

from __future__ import annotations

import colorsys
import math

import torch
import torch.nn.functional as F
from torch import Tensor

#: Family names, in family order (family ``k`` is the aligned background of class ``k``).
BACKGROUND_FAMILIES: tuple[str, ...] = (
    "HorizontalStripes",
    "VerticalStripes",
    "Checkerboard",
    "DiagonalStripes",
    "Blobs",
    "Rings",
    "Dots",
    "Speckle",
)


def _uniform(generator: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def _stripes(x: Tensor, y: Tensor, angle: float, generator: torch.Generator) -> Tensor:
    period = _uniform(generator, 5.0, 12.0)
    phase = _uniform(generator, 0.0, 1.0)
    angle += _uniform(generator, -0.15, 0.15)
    across = x * math.sin(angle) + y * math.cos(angle)
    return 0.5 + 0.5 * torch.sin(2 * math.pi * (across / period + phase))


def _checkerboard(x: Tensor, y: Tensor, generator: torch.Generator) -> Tensor:
    cell = _uniform(generator, 5.0, 12.0)
    dx, dy = _uniform(generator, 0.0, cell), _uniform(generator, 0.0, cell)
    parity = torch.floor((x + dx) / cell) + torch.floor((y + dy) / cell)
    return torch.remainder(parity, 2.0)


def _blobs(size: int, generator: torch.Generator) -> Tensor:
    cells = int(_uniform(generator, 3.0, 6.0))
    coarse = torch.rand(1, 1, cells, cells, generator=generator)
    smooth = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0, 0]
    low, high = smooth.min(), smooth.max()
    return (smooth - low) / (high - low).clamp_min(1e-6)


def _rings(x: Tensor, y: Tensor, size: int, generator: torch.Generator) -> Tensor:
    cx, cy = _uniform(generator, 0.0, size), _uniform(generator, 0.0, size)
    period = _uniform(generator, 6.0, 14.0)
    phase = _uniform(generator, 0.0, 1.0)
    distance = torch.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    return 0.5 + 0.5 * torch.sin(2 * math.pi * (distance / period + phase))


def _dots(x: Tensor, y: Tensor, generator: torch.Generator) -> Tensor:
    spacing = _uniform(generator, 7.0, 12.0)
    dot = spacing * _uniform(generator, 0.2, 0.32)
    dx, dy = _uniform(generator, 0.0, spacing), _uniform(generator, 0.0, spacing)
    fx = torch.remainder(x + dx, spacing) - spacing / 2
    fy = torch.remainder(y + dy, spacing) - spacing / 2
    return (fx**2 + fy**2 <= dot**2).float()


def _speckle(size: int, generator: torch.Generator) -> Tensor:
    grain = 2 if _uniform(generator, 0.0, 1.0) < 0.5 else 1
    noise = torch.rand(1, 1, size // grain, size // grain, generator=generator)
    return F.interpolate(noise, size=(size, size), mode="nearest")[0, 0]


def _family_colours(family: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Light and dark colour of one video of ``family``. Shape: ``(3,)`` each."""
    hue = family / 8 + _uniform(generator, -0.03, 0.03)
    light = colorsys.hsv_to_rgb(
        hue % 1.0, _uniform(generator, 0.45, 0.8), _uniform(generator, 0.6, 0.75)
    )
    dark_hue = (hue + _uniform(generator, -0.04, 0.04)) % 1.0
    dark = colorsys.hsv_to_rgb(
        dark_hue, _uniform(generator, 0.3, 0.6), _uniform(generator, 0.2, 0.4)
    )
    return torch.tensor(light), torch.tensor(dark)


def render_background(family: int, *, size: int, generator: torch.Generator) -> Tensor:
    """Draw a static background of ``family``.

    Args:
        family: Index into :data:`BACKGROUND_FAMILIES`.
        size: Side of the square frame in pixels.
        generator: Random source of this video.

    Returns:
        RGB background in ``[0.1, 0.75]``. Shape: ``(3, size, size)``, float32.

    Example:
        >>> import torch
        >>> family = BACKGROUND_FAMILIES.index("VerticalStripes")
        >>> texture = render_background(family, size=32, generator=torch.Generator().manual_seed(0))
        >>> texture.shape, bool(texture.min() >= 0.1 and texture.max() <= 0.75)
        (torch.Size([3, 32, 32]), True)
        >>> across = texture.diff(dim=2).abs().mean()  # change from column to column
        >>> down = texture.diff(dim=1).abs().mean()  # change from row to row
        >>> bool(across > 4 * down)  # vertical stripes
        True
    """
    if not 0 <= family < len(BACKGROUND_FAMILIES):
        raise ValueError(f"`family` must be in [0, {len(BACKGROUND_FAMILIES)}), got {family}")
    light, dark = _family_colours(family, generator)
    coords = torch.arange(size, dtype=torch.float32)
    y, x = coords.view(-1, 1), coords.view(1, -1)
    name = BACKGROUND_FAMILIES[family]
    if name == "HorizontalStripes":
        pattern = _stripes(x, y, 0.0, generator)
    elif name == "VerticalStripes":
        pattern = _stripes(x, y, math.pi / 2, generator)
    elif name == "Checkerboard":
        pattern = _checkerboard(x, y, generator)
    elif name == "DiagonalStripes":
        pattern = _stripes(x, y, math.pi / 4, generator)
    elif name == "Blobs":
        pattern = _blobs(size, generator)
    elif name == "Rings":
        pattern = _rings(x, y, size, generator)
    elif name == "Dots":
        pattern = _dots(x, y, generator)
    else:
        pattern = _speckle(size, generator)
    pattern = pattern.expand(size, size)
    background = light.view(3, 1, 1) * pattern + dark.view(3, 1, 1) * (1 - pattern)
    return background.clamp(0.1, 0.75).float()
