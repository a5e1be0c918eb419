"""loss.png: drawn from log.csv at every checkpoint and at the end of a run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bgdebias.training import LossCurvePlot, PretrainConfig, plot_loss_curve, pretrain
from bgdebias.training.loss_curve import _COLOURS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    with Image.open(path) as image:
        image.verify()
        return path.read_bytes().startswith(PNG_SIGNATURE) and image.format == "PNG"


def test_a_run_writes_loss_png_at_its_checkpoints_and_at_its_end(
    tiny_config: PretrainConfig,
) -> None:
    png = Path(tiny_config.output_dir) / "loss.png"
    pretrain(tiny_config, progress=False, stop_at_step=2)  # no end of run: the checkpoint's
    assert _is_png(png)
    first = png.read_bytes()
    pretrain(tiny_config, progress=False, resume=True)
    assert _is_png(png)
    assert png.read_bytes() != first


def _pixels_of(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """(row, column) of every pixel of exactly ``colour``."""
    return np.argwhere((image == np.array(colour, dtype=np.uint8)).all(axis=2))


def test_the_curve_goes_down_with_the_loss_and_terms_switched_off_are_left_out(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log.csv"
    rows = [f"{step},{10.0 / step},{5.0 / step},0.0,nan" for step in range(1, 11)]
    log.write_text("step,loss,static,wide,micro\n" + "\n".join(rows) + "\n")
    image = np.asarray(Image.open(plot_loss_curve(log, tmp_path / "curve.png")).convert("RGB"))
    for name in ("loss", "static"):
        plot_area = image[17:363, 65:543]  # inside the axes: no labels, no legend
        pixels = _pixels_of(plot_area, _COLOURS[name])
        left = pixels[pixels[:, 1] == pixels[:, 1].min(), 0].mean()
        right = pixels[pixels[:, 1] == pixels[:, 1].max(), 0].mean()
        assert left < right, name  # image rows grow downwards: the curve falls
    for name in ("wide", "micro"):  # all zero; all nan
        assert len(_pixels_of(image, _COLOURS[name])) == 0, name


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="`log_path` not found"):
        plot_loss_curve(tmp_path / "log.csv")
    log = tmp_path / "log.csv"
    log.write_text("step,loss,wide\n1,nan,0.0\n")
    with pytest.raises(ValueError, match=r"holds no finite, non-zero value in the columns"):
        plot_loss_curve(log)
    with pytest.raises(ValueError, match="`width` must be an int >= 200, got 10"):
        plot_loss_curve(log, width=10)
    with pytest.raises(ValueError, match=r"`filename` must be a file name ending in \.png"):
        LossCurvePlot(filename="loss.jpg")


def test_a_log_without_rows_yet_is_not_drawn(tiny_config: PretrainConfig) -> None:
    """The first checkpoint may come before the first log row: nothing to draw yet."""
    config = dataclasses.replace(tiny_config, steps=3, log_every=3, checkpoint_every=1)
    pretrain(config, progress=False, stop_at_step=1)
    assert not (Path(config.output_dir) / "loss.png").exists()
