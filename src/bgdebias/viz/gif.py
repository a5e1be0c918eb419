"""Animated GIFs of uint8 frames."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from bgdebias._validation import check_int, check_positive
from bgdebias.viz._checks import as_uint8_array
from bgdebias.viz._files import write_image_atomically


def save_gif(
    frames: npt.NDArray[np.uint8],
    path: str | os.PathLike[str],
    *,
    fps: float = 8.0,
    loop: int = 0,
) -> Path:
    """Write frames as an animated GIF (temporary file in the same folder, then ``os.replace``).

    GIF stores frame durations in hundredths of a second, so the delay per frame is
    ``1000 / fps`` ms rounded to 10 ms (at least 20 ms: many viewers slow shorter delays
    down). Colours are reduced to an adaptive 256-colour palette per frame. Pillow merges a
    frame identical to the one before into it (adding up their durations), so a GIF of a
    motionless clip holds fewer frames than ``T`` but plays as long.

    Args:
        frames: uint8 RGB frames. Shape: ``(T, H, W, 3)``.
        path: Target file; missing parent folders are created.
        fps: Frames per second, > 0.
        loop: Number of repeats; 0 loops forever.

    Returns:
        The path written.

    Raises:
        TypeError: ``frames`` is not uint8, or ``fps``/``loop`` have the wrong type.
        ValueError: ``frames`` is not ``(T, H, W, 3)``, ``fps <= 0`` or ``loop < 0``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from PIL import Image
        >>> from bgdebias.viz import save_gif
        >>> frames = np.zeros((3, 4, 4, 3), np.uint8)
        >>> frames[1] = 255  # black, white, black
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = save_gif(frames, Path(folder) / "clip.gif", fps=10)
        ...     with Image.open(path) as gif:
        ...         gif.n_frames, gif.info["duration"], gif.info["loop"]  # 100 ms, loops forever
        (3, 100, 0)
    """
    pixels = as_uint8_array(frames, "frames", 4, "(T, H, W, 3)")
    rate = check_positive(fps, "fps")
    repeats = check_int(loop, "loop", minimum=0)
    duration = max(20, round(100.0 / rate) * 10)
    images = [Image.fromarray(np.ascontiguousarray(frame)) for frame in pixels]
    return write_image_atomically(
        images[0],
        path,
        "GIF",
        save_all=True,
        append_images=images[1:],
        duration=duration,
        loop=repeats,
        optimize=False,
    )
