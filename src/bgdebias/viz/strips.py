"""PNG strips: frames left to right, one row per item, optional row labels."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from bgdebias._validation import check_int
from bgdebias.viz._checks import as_uint8_array
from bgdebias.viz._files import write_image_atomically

_LABEL_PADDING = 4


def frame_strip(
    rows: Sequence[npt.NDArray[np.uint8]],
    *,
    labels: Sequence[str] | None = None,
    gap: int = 2,
    background: int = 255,
) -> npt.NDArray[np.uint8]:
    """Lay out rows of frames as one image: frames left to right, rows top to bottom.

    Frame ``t`` of row ``r`` sits at ``y = r * (H + gap)``,
    ``x = label_width + t * (W + gap)``; everything else is ``background``. Rows may hold
    different numbers of frames (shorter rows end early); all frames share ``H`` and ``W``.
    Labels, if given, are drawn in black (white on a dark ``background``) with Pillow's
    default font in a left margin ``label_width`` wide (the widest label plus padding),
    vertically centred on their row.

    Args:
        rows: uint8 RGB frames per row. Shape: each ``(T_r, H, W, 3)``.
        labels: One text per row, or ``None`` for no margin.
        gap: Pixels between neighbouring frames and rows, >= 0.
        background: Grey level (0..255) of the gaps and the margin.

    Returns:
        The strip. Shape: ``(R * H + (R - 1) * gap, label_width + T_max * W
        + (T_max - 1) * gap, 3)``, uint8.

    Raises:
        TypeError: a row is not uint8, or a label is not a string.
        ValueError: no rows, rows of different frame sizes, a wrong number of labels,
            or a bad ``gap``/``background``.

    Example:
        >>> import numpy as np
        >>> from bgdebias.viz import frame_strip
        >>> rows = [np.zeros((3, 4, 5, 3), np.uint8), np.zeros((2, 4, 5, 3), np.uint8)]
        >>> strip = frame_strip(rows, gap=1)
        >>> strip.shape  # (2 * 4 + 1, 3 * 5 + 2 * 1, 3)
        (9, 17, 3)
        >>> int(strip[0, 0, 0]), int(strip[0, 5, 0]), int(strip[5, 14, 0])  # frame, gap, no frame
        (0, 255, 255)
    """
    frames = _check_rows(rows)
    spacing = check_int(gap, "gap", minimum=0)
    fill = check_int(background, "background", minimum=0)
    if fill > 255:
        raise ValueError(f"`background` must be a grey level in [0, 255], got {fill}")
    texts = _check_labels(labels, len(frames))
    _, height, width, _ = frames[0].shape
    longest = max(row.shape[0] for row in frames)
    font = _default_font()
    margin = 0 if texts is None else max(_text_width(font, t) for t in texts) + 2 * _LABEL_PADDING
    total_height = len(frames) * height + (len(frames) - 1) * spacing
    total_width = margin + longest * width + (longest - 1) * spacing
    canvas = np.full((total_height, total_width, 3), fill, dtype=np.uint8)
    for r, row in enumerate(frames):
        top = r * (height + spacing)
        for t, frame in enumerate(row):
            left = margin + t * (width + spacing)
            canvas[top : top + height, left : left + width] = frame
    if texts is None:
        return canvas
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    ink = (0, 0, 0) if fill >= 128 else (255, 255, 255)
    for r, text in enumerate(texts):
        centre_y = r * (height + spacing) + height / 2
        draw.text((_LABEL_PADDING, centre_y), text, fill=ink, font=font, anchor="lm")
    labelled: npt.NDArray[np.uint8] = np.array(image, dtype=np.uint8)
    return labelled


def save_png(image: npt.NDArray[np.uint8], path: str | os.PathLike[str]) -> Path:
    """Write an RGB image as PNG (temporary file in the same folder, then ``os.replace``).

    Args:
        image: uint8 RGB image. Shape: ``(H, W, 3)``.
        path: Target file; missing parent folders are created.

    Returns:
        The path written.

    Raises:
        TypeError: ``image`` is not uint8 or ``path`` is not path-like.
        ValueError: ``image`` is not ``(H, W, 3)``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from PIL import Image
        >>> from bgdebias.viz import save_png
        >>> image = np.zeros((4, 6, 3), np.uint8)  # (H, W, 3)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = save_png(image, Path(folder) / "figures" / "strip.png")  # makes figures/
        ...     with Image.open(path) as png:
        ...         png.size, png.mode  # (W, H)
        ((6, 4), 'RGB')
    """
    pixels = as_uint8_array(image, "image", 3, "(H, W, 3)")
    picture = Image.fromarray(np.ascontiguousarray(pixels))
    return write_image_atomically(picture, path, "PNG")


def _check_rows(rows: Any) -> list[npt.NDArray[np.uint8]]:
    if isinstance(rows, np.ndarray) or not isinstance(rows, Sequence):
        raise TypeError(
            "`rows` must be a sequence (list or tuple) of uint8 frame arrays (T, H, W, 3), "
            f"got {type(rows).__name__}"
        )
    if len(rows) == 0:
        raise ValueError("`rows` must hold at least one row of frames, got an empty sequence")
    frames = [as_uint8_array(row, f"rows[{i}]", 4, "(T, H, W, 3)") for i, row in enumerate(rows)]
    size = frames[0].shape[1:3]
    for i, row in enumerate(frames):
        if row.shape[1:3] != size:
            raise ValueError(
                f"all rows must share the frame size (H, W); rows[0] has {tuple(size)} but "
                f"rows[{i}] has {tuple(row.shape[1:3])}"
            )
    return frames


def _check_labels(labels: Any, count: int) -> list[str] | None:
    if labels is None:
        return None
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(
            f"`labels` must be a sequence of strings (one per row) or None, "
            f"got {type(labels).__name__}"
        )
    if len(labels) != count:
        raise ValueError(f"`labels` must hold one text per row ({count}), got {len(labels)}")
    for i, text in enumerate(labels):
        if not isinstance(text, str):
            raise TypeError(f"`labels[{i}]` must be a str, got {type(text).__name__}")
    return list(labels)


@cache
def _default_font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default()


def _text_width(font: ImageFont.ImageFont | ImageFont.FreeTypeFont, text: str) -> int:
    left, _, right, _ = font.getbbox(text)
    return int(np.ceil(right - left))
