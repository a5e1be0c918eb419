"""Backgrounds cut from real photographs: one photograph per family, a random crop per video.

The photographs are those that scikit-image bundles in its own package files (its ``data``
folder; nothing is downloaded): install them with ``pip install scikit-image``. Family ``k``
is photograph ``k`` of :data:`PHOTO_FAMILIES`; each video takes its own square crop (a random
fraction of 25 to 50 % of the photograph's short side, at a random place, mirrored with
probability one half), resized to the frame size, so a family is recognisable by its
colours and textures while no two backgrounds are equal. As the procedural textures, the
crops are mapped linearly from [0, 1] into [0.1, 0.75] (contrast kept, extremes left to the
actor), so that a small actor stays visible on any photograph.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

#: Photograph of each family (file names in scikit-image's data folder), in family order.
PHOTO_FAMILIES: tuple[str, ...] = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "ihc.png",
    "hubble_deep_field.jpg",
    "grass.png",
)

_CROP_FRACTION = (0.25, 0.5)
_LOW, _HIGH = 0.1, 0.75


def photo_folder() -> Path:
    """The folder of scikit-image's bundled photographs.

    Returns:
        The path of ``skimage/data`` (found without importing scikit-image).

    Raises:
        ImportError: If scikit-image is not installed.

    Example:
        >>> (photo_folder() / PHOTO_FAMILIES[0]).is_file()
        True
    """
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        raise ImportError(
            "photograph backgrounds need scikit-image's bundled images: pip install scikit-image"
        )
    return Path(spec.origin).parent / "data"


def load_photo(family: int) -> Tensor:
    """Photograph ``family`` as RGB floats in [0, 1] (grey ones repeated over channels).

    Args:
        family: Index into :data:`PHOTO_FAMILIES`.

    Returns:
        The photograph. Shape: ``(3, H, W)``, float32 (cached; do not modify it).

    Example:
        >>> load_photo(0).shape  # scikit-image's astronaut
        torch.Size([3, 512, 512])
    """
    if not 0 <= family < len(PHOTO_FAMILIES):
        raise ValueError(f"`family` must be in [0, {len(PHOTO_FAMILIES)}), got {family}")
    return _read_photo(PHOTO_FAMILIES[family])


@lru_cache(maxsize=len(PHOTO_FAMILIES))
def _read_photo(name: str) -> Tensor:
    with Image.open(photo_folder() / name) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(pixels).permute(2, 0, 1).contiguous()


def render_photo_background(family: int, *, size: int, generator: torch.Generator) -> Tensor:
    """A random square crop of photograph ``family``, resized to ``size``.

    Args:
        family: Index into :data:`PHOTO_FAMILIES`.
        size: Side of the square frame in pixels.
        generator: Random source of this video (crop size, place and mirroring).

    Returns:
        RGB background in [0.1, 0.75]. Shape: ``(3, size, size)``, float32.

    Example:
        >>> import torch
        >>> crop = render_photo_background(1, size=32, generator=torch.Generator().manual_seed(0))
        >>> crop.shape, bool(0.1 <= crop.min() and crop.max() <= 0.75)
        (torch.Size([3, 32, 32]), True)
    """
    photo = load_photo(family)
    height, width = photo.shape[1:]
    fraction, across, down, mirror = torch.rand(4, generator=generator).tolist()
    low, high = _CROP_FRACTION
    side = max(size, round(min(height, width) * (low + (high - low) * fraction)))
    side = min(side, height, width)
    top = int(down * (height - side + 1))
    left = int(across * (width - side + 1))
    crop = photo[:, top : top + side, left : left + side]
    if mirror < 0.5:
        crop = crop.flip(-1)
    resized = F.interpolate(
        crop.unsqueeze(0), size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )[0]
    return _LOW + (_HIGH - _LOW) * resized.clamp(0.0, 1.0)
