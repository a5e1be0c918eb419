from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bgdebias.viz import frame_strip, save_png


def _solid(values: list[int], size: tuple[int, int] = (2, 3)) -> np.ndarray:
    """One frame per value, every pixel (value, value + 1, value + 2)."""
    colours = np.array([[v, v + 1, v + 2] for v in values], dtype=np.uint8)
    return np.ascontiguousarray(np.broadcast_to(colours[:, None, None], (len(values), *size, 3)))


def _known_strip() -> tuple[list[np.ndarray], np.ndarray]:
    rows = [_solid([10, 20, 30]), _solid([40, 50])]
    # Frames 2x3, gap 1: height 2 + 1 + 2, width 3 * 3 + 2 * 1.
    expected = np.full((5, 11, 3), 255, dtype=np.uint8)
    for r, row in enumerate(rows):
        for t, frame in enumerate(row):
            expected[3 * r : 3 * r + 2, 4 * t : 4 * t + 3] = frame
    return rows, expected


def test_layout_of_a_known_strip() -> None:
    rows, expected = _known_strip()
    strip = frame_strip(rows, gap=1)
    np.testing.assert_array_equal(strip, expected)
    # Spot checks of the hand layout itself.
    assert tuple(strip[0, 0]) == (10, 11, 12)
    assert tuple(strip[4, 6]) == (50, 51, 52)
    assert tuple(strip[4, 10]) == (255, 255, 255)  # row 1 is one frame shorter
    assert tuple(strip[2, 0]) == (255, 255, 255)  # the gap between rows


def test_png_round_trip(tmp_path: Path) -> None:
    rows, expected = _known_strip()
    path = save_png(frame_strip(rows, gap=1), tmp_path / "sub" / "strip.png")
    assert path == tmp_path / "sub" / "strip.png"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (11, 5)  # (width, height)
        np.testing.assert_array_equal(np.asarray(image.convert("RGB")), expected)
    assert sorted(p.name for p in path.parent.iterdir()) == ["strip.png"]


def test_png_overwrites_and_keeps_permissions(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    save_png(np.zeros((2, 2, 3), np.uint8), path)
    os.chmod(path, 0o640)
    save_png(np.full((3, 4, 3), 7, np.uint8), str(path))
    with Image.open(path) as image:
        assert image.size == (4, 3)
    assert path.stat().st_mode & 0o777 == 0o640


def test_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()  # os.replace cannot put a file over a folder
    with pytest.raises(OSError, match=r"directory|denied"):  # POSIX | Windows
        save_png(np.zeros((2, 2, 3), np.uint8), tmp_path / "taken")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_labels_add_a_margin_with_text() -> None:
    rows, _ = _known_strip()
    rows = [np.repeat(np.repeat(row, 8, axis=1), 8, axis=2) for row in rows]  # 16x24 frames
    plain = frame_strip(rows, gap=1)
    labelled = frame_strip(rows, labels=["clip", "mask"], gap=1)
    margin = labelled.shape[1] - plain.shape[1]
    assert margin > 10
    assert labelled.shape[0] == plain.shape[0]
    np.testing.assert_array_equal(labelled[:, margin:], plain)
    for r in range(2):
        band = labelled[17 * r : 17 * r + 16, :margin]
        assert band.min() < 128, f"no text drawn for row {r}"
    assert (labelled[:, :margin] == 255).mean() > 0.5  # mostly background
    dark = frame_strip(rows, labels=["clip", "mask"], gap=1, background=0)
    assert dark[:16, :margin].max() > 128  # white text on black


@pytest.mark.parametrize(
    ("rows", "kwargs", "error", "message"),
    [
        ([], {}, ValueError, "`rows` must hold at least one row of frames, got an empty sequence"),
        (np.zeros((1, 2, 2, 2, 3), np.uint8), {}, TypeError,
         "`rows` must be a sequence (list or tuple) of uint8 frame arrays (T, H, W, 3), "
         "got ndarray"),
        ([np.zeros((1, 2, 2, 3), np.float32)], {}, TypeError,
         "`rows[0]` must have dtype uint8 (RGB values 0..255) with shape (T, H, W, 3), "
         "got float32"),
        ([np.zeros((1, 2, 2, 3), np.uint8), np.zeros((1, 2, 3, 3), np.uint8)], {}, ValueError,
         "all rows must share the frame size (H, W); rows[0] has (2, 2) but rows[1] has (2, 3)"),
        ([np.zeros((2, 2, 3), np.uint8)], {}, ValueError,
         "`rows[0]` must be a 4D uint8 array of shape (T, H, W, 3), got shape (2, 2, 3)"),
        ([np.zeros((1, 2, 2, 3), np.uint8)], {"labels": ["a", "b"]}, ValueError,
         "`labels` must hold one text per row (1), got 2"),
        ([np.zeros((1, 2, 2, 3), np.uint8)], {"labels": "a"}, TypeError,
         "`labels` must be a sequence of strings (one per row) or None, got str"),
        ([np.zeros((1, 2, 2, 3), np.uint8)], {"labels": [3]}, TypeError,
         "`labels[0]` must be a str, got int"),
        ([np.zeros((1, 2, 2, 3), np.uint8)], {"gap": -1}, ValueError,
         "`gap` must be an int >= 0, got -1"),
        ([np.zeros((1, 2, 2, 3), np.uint8)], {"background": 256}, ValueError,
         "`background` must be a grey level in [0, 255], got 256"),
    ],
)  # fmt: skip
def test_strip_errors(
    rows: object, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        frame_strip(rows, **kwargs)  # type: ignore[arg-type]


def test_save_png_errors(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError,
        match=re.escape(
            "`image` must be a 3D uint8 array of shape (H, W, 3), got shape (1, 2, 2, 3)"
        ),
    ):
        save_png(np.zeros((1, 2, 2, 3), np.uint8), tmp_path / "x.png")
    with pytest.raises(TypeError, match=re.escape("`path` must be a str or os.PathLike, got int")):
        save_png(np.zeros((2, 2, 3), np.uint8), 3)  # type: ignore[arg-type]
