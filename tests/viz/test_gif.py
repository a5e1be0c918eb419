from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from bgdebias.viz import save_gif

# Few distinct colours, so the adaptive palette holds them exactly.
COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 0, 0]], np.uint8)


def _frames() -> np.ndarray:
    frames = np.zeros((5, 6, 8, 3), dtype=np.uint8)
    for t in range(5):
        frames[t] = COLOURS[t]
        frames[t, :3, :4] = COLOURS[(t + 1) % 5]
    return frames


def test_gif_round_trip(tmp_path: Path) -> None:
    frames = _frames()
    path = save_gif(frames, tmp_path / "clip.gif", fps=10)
    with Image.open(path) as image:
        assert image.format == "GIF"
        assert image.size == (8, 6)
        assert image.n_frames == 5
        assert image.info["loop"] == 0  # forever
        decoded = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(image)]
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
    for t in range(5):
        np.testing.assert_array_equal(decoded[t], frames[t])
    assert durations == [100] * 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.gif"]


def test_gif_rate_and_repeats(tmp_path: Path) -> None:
    path = save_gif(_frames(), tmp_path / "slow.gif", fps=2.5, loop=3)
    with Image.open(path) as image:
        assert image.info["duration"] == 400
        assert image.info["loop"] == 3


@pytest.mark.parametrize(
    ("frames", "kwargs", "error", "message"),
    [
        (np.zeros((2, 2, 3), np.uint8), {}, ValueError,
         "`frames` must be a 4D uint8 array of shape (T, H, W, 3), got shape (2, 2, 3)"),
        (np.zeros((2, 2, 2, 3)), {}, TypeError, "`frames` must have dtype uint8"),
        (np.zeros((2, 2, 2, 3), np.uint8), {"fps": 0}, ValueError,
         "`fps` must be a finite number > 0, got 0"),
        (np.zeros((2, 2, 2, 3), np.uint8), {"fps": "8"}, TypeError,
         "`fps` must be a number, got str ('8')"),
        (np.zeros((2, 2, 2, 3), np.uint8), {"loop": -1}, ValueError,
         "`loop` must be an int >= 0, got -1"),
    ],
)  # fmt: skip
def test_gif_errors(
    tmp_path: Path,
    frames: np.ndarray,
    kwargs: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        save_gif(frames, tmp_path / "x.gif", **kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
