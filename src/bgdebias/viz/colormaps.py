"""Small perceptual colour maps as 256-entry lookup tables (no matplotlib needed).

Each map is interpolated linearly in RGB between eleven anchor colours sampled at
``0, 0.1, ..., 1`` from the published maps (matplotlib's viridis and inferno, Google's
turbo); the interpolated tables differ from the originals by a few levels per channel.

============  ================================  ==================  =====================
name          character                         value 0             value 1
============  ================================  ==================  =====================
``viridis``   perceptually uniform, colour-     ``(68, 1, 84)``     ``(253, 231, 37)``
              blind safe, luminance increases   dark purple         yellow
``inferno``   perceptually uniform, black to    ``(0, 0, 4)``       ``(252, 255, 164)``
              white-yellow, luminance increases black               pale yellow
``turbo``     rainbow (improved jet); hue, not  ``(48, 18, 59)``    ``(122, 4, 3)``
              luminance, encodes the value      dark blue           dark red
``gray``      luminance only                    ``(0, 0, 0)``       ``(255, 255, 255)``
============  ================================  ==================  =====================
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from bgdebias._validation import check_choice

ColormapName = Literal["viridis", "inferno", "turbo", "gray"]

#: Names accepted wherever a ``colormap`` argument is taken.
COLORMAPS: tuple[str, ...] = ("viridis", "inferno", "turbo", "gray")

_ANCHORS: dict[str, tuple[str, ...]] = {
    "viridis": (
        "440154", "482475", "414487", "355f8d", "2a788e", "21918c",
        "22a884", "44bf70", "7ad151", "bddf26", "fde725",
    ),
    "inferno": (
        "000004", "160b39", "420a68", "6a176e", "932667", "bc3754",
        "dd513a", "f37819", "fca50a", "f6d746", "fcffa4",
    ),
    "turbo": (
        "30123b", "4454c4", "4490fe", "1fc8de", "29efa2", "7eff55",
        "c1f334", "f1ca3a", "fe922a", "ea4f0d", "7a0403",
    ),
    "gray": ("000000", "ffffff"),
}  # fmt: skip


def colormap_lut(colormap: ColormapName = "viridis") -> npt.NDArray[np.uint8]:
    """The 256-entry lookup table of a colour map (read-only).

    Args:
        colormap: One of :data:`COLORMAPS`.

    Returns:
        Entry ``i`` is the colour of value ``i / 255``. Shape: ``(256, 3)``, uint8.

    Raises:
        ValueError: ``colormap`` is unknown.

    Example:
        >>> from bgdebias.viz import colormap_lut
        >>> lut = colormap_lut("viridis")
        >>> lut.shape, lut.dtype, lut.flags.writeable
        ((256, 3), dtype('uint8'), False)
        >>> lut[0].tolist(), lut[255].tolist()  # dark purple to yellow
        ([68, 1, 84], [253, 231, 37])
    """
    return _lut(check_choice(colormap, "colormap", COLORMAPS))


def apply_colormap(
    values: npt.NDArray[Any], colormap: ColormapName = "viridis"
) -> npt.NDArray[np.uint8]:
    """Colour values in [0, 1] (clipped; NaN counts as 0) with a colour map.

    Values are quantised to the nearest of the 256 table entries.

    Args:
        values: Real numbers, any shape. Shape: ``(*)``.
        colormap: One of :data:`COLORMAPS`.

    Returns:
        RGB colours. Shape: ``(*, 3)``, uint8.

    Example:
        >>> import numpy as np
        >>> from bgdebias.viz import apply_colormap
        >>> apply_colormap(np.zeros((2, 4, 5))).shape
        (2, 4, 5, 3)
        >>> apply_colormap(np.array([0.0, 0.5, 2.0, np.nan]), "gray").tolist()  # 2 clipped to 1
        [[0, 0, 0], [128, 128, 128], [255, 255, 255], [0, 0, 0]]
    """
    lut = colormap_lut(colormap)
    scaled = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    index = np.rint(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.intp)
    return lut[index]


@cache
def _lut(name: str) -> npt.NDArray[np.uint8]:
    anchors = np.array(
        [[int(code[i : i + 2], 16) for i in (0, 2, 4)] for code in _ANCHORS[name]],
        dtype=np.float64,
    )
    positions = np.linspace(0.0, 1.0, len(anchors))
    grid = np.linspace(0.0, 1.0, 256)
    table = np.stack([np.interp(grid, positions, anchors[:, c]) for c in range(3)], axis=1)
    lut = np.rint(table).astype(np.uint8)
    lut.flags.writeable = False
    return lut
