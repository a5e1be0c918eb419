"""A picture of the loss curves of ``log.csv``, drawn with Pillow (no plotting library)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bgdebias._validation import check_int
from bgdebias.training.callbacks import PretrainCallback, PretrainRun
from bgdebias.training.metrics_log import read_log
from bgdebias.training.progress import format_significant
from bgdebias.training.result import PretrainResult

#: The columns of ``log.csv`` drawn by default: the total loss and its three terms.
LOSS_COLUMNS: tuple[str, ...] = ("loss", "static", "wide", "micro")

#: Line colour of each default column; other columns take the fallback colours in turn.
_COLOURS = {
    "loss": (20, 20, 20),
    "static": (31, 119, 180),
    "wide": (255, 127, 14),
    "micro": (44, 160, 44),
}
_FALLBACK = ((214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194))
_MARGIN = {"left": 64, "right": 96, "top": 16, "bottom": 36}
_TICKS = 5


def plot_loss_curve(
    log_path: str | os.PathLike[str],
    image_path: str | os.PathLike[str] | None = None,
    *,
    columns: Sequence[str] = LOSS_COLUMNS,
    width: int = 640,
    height: int = 400,
) -> Path:
    """Draw the loss columns of a run's ``log.csv`` against the step, as a PNG.

    Columns that the log lacks, or whose values are all zero (terms switched off by the
    method), are left out; non-finite values (a diverged step) are skipped.

    Args:
        log_path: A ``log.csv`` written by :func:`~bgdebias.training.pretrain`.
        image_path: Where to write the PNG (atomically); ``loss.png`` beside the log by
            default.
        columns: Columns to draw, each with its own colour and a legend entry.
        width: Image width in pixels, >= 200.
        height: Image height in pixels, >= 120.

    Returns:
        The path of the PNG.

    Raises:
        FileNotFoundError: If ``log_path`` does not exist.
        ValueError: If none of ``columns`` holds a finite non-zero value.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from PIL import Image
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     log = Path(folder) / "log.csv"
        ...     _ = log.write_text("step,loss,static,wide\\n1,5.0,3.0,0.0\\n2,4.5,2.9,0.0\\n")
        ...     png = plot_loss_curve(log)
        ...     with Image.open(png) as image:
        ...         print(png.name, image.format, image.size)
        loss.png PNG (640, 400)
    """
    source = Path(log_path)
    if not source.is_file():
        raise FileNotFoundError(f"`log_path` not found: {source}")
    check_int(width, "width", minimum=200)
    check_int(height, "height", minimum=120)
    rows = read_log(source)
    series = {}
    for name in columns:
        points = [
            (row["step"], row[name])
            for row in rows
            if name in row and math.isfinite(row[name]) and math.isfinite(row["step"])
        ]
        if any(value != 0 for _, value in points):
            series[name] = points
    if not series:
        raise ValueError(
            f"{source} holds no finite, non-zero value in the columns {list(columns)} "
            f"({len(rows)} rows)"
        )
    target = Path(image_path) if image_path is not None else source.with_name("loss.png")
    image = _draw(series, width, height)
    temporary = target.with_name(target.name + ".tmp")
    image.save(temporary, format="PNG")
    os.replace(temporary, target)
    return target


class LossCurvePlot(PretrainCallback):
    """Redraw ``<run>/loss.png`` from ``log.csv`` at every checkpoint and at the end of a run.

    :func:`~bgdebias.training.pretrain` adds one to every run; add another for other
    columns or another file name.

    Args:
        filename: The PNG's name in the run folder.
        columns: Columns of ``log.csv`` to draw (see :func:`plot_loss_curve`).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from bgdebias.training import LossCurvePlot, PretrainConfig, pretrain
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     config = PretrainConfig(
        ...         steps=2, size=32, batch_size=4, synthetic_videos=8, queue_size=8,
        ...         hidden_dim=16, embed_dim=8, device="cpu", output_dir=folder, log_every=1,
        ...     )
        ...     plot = LossCurvePlot(filename="lr.png", columns=("lr",))
        ...     _ = pretrain(config, progress=False, callbacks=[plot])
        ...     sorted(path.name for path in Path(folder).glob("*.png"))
        ['loss.png', 'lr.png']
    """

    def __init__(self, *, filename: str = "loss.png", columns: Sequence[str] = LOSS_COLUMNS):
        if not isinstance(filename, str) or not filename.endswith(".png") or "/" in filename:
            raise ValueError(f"`filename` must be a file name ending in .png, got {filename!r}")
        self.filename = filename
        self.columns = tuple(columns)
        self._folder: Path | None = None

    def on_train_start(self, run: PretrainRun) -> None:
        self._folder = run.output_dir

    def on_checkpoint(self, step: int, path: Path) -> None:
        del step, path
        self._plot()

    def on_train_end(self, result: PretrainResult) -> None:
        del result
        self._plot()

    def _plot(self) -> None:
        if self._folder is None:
            return
        log = self._folder / "log.csv"
        if not log.is_file():
            return
        try:
            plot_loss_curve(log, self._folder / self.filename, columns=self.columns)
        except ValueError:
            return  # no row yet (the first row comes at `log_every`)


def _draw(series: dict[str, list[tuple[float, float]]], width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    left, top = _MARGIN["left"], _MARGIN["top"]
    right, bottom = width - _MARGIN["right"], height - _MARGIN["bottom"]
    steps = [step for points in series.values() for step, _ in points]
    values = [value for points in series.values() for _, value in points]
    x_low, x_high = _span(min(steps), max(steps), pad=0.0)
    y_low, y_high = _span(min(values), max(values), pad=0.05)

    def to_pixel(step: float, value: float) -> tuple[float, float]:
        x = left + (step - x_low) / (x_high - x_low) * (right - left)
        y = bottom - (value - y_low) / (y_high - y_low) * (bottom - top)
        return x, y

    for k in range(_TICKS + 1):
        fraction = k / _TICKS
        y = bottom - fraction * (bottom - top)
        x = left + fraction * (right - left)
        draw.line([(left, y), (right, y)], fill=(230, 230, 230))
        value = y_low + fraction * (y_high - y_low)
        draw.text(
            (left - 6, y), format_significant(value, digits=3), fill="black", font=font, anchor="rm"
        )
        step = x_low + fraction * (x_high - x_low)
        draw.text((x, bottom + 6), f"{round(step)}", fill="black", font=font, anchor="mt")
    draw.rectangle([left, top, right, bottom], outline="black")
    draw.text(((left + right) / 2, height - 4), "step", fill="black", font=font, anchor="mb")
    fallback = iter(_FALLBACK * len(series))
    for position, (name, points) in enumerate(series.items()):
        colour = _COLOURS.get(name) or next(fallback)
        pixels = [to_pixel(step, value) for step, value in sorted(points)]
        if len(pixels) == 1:
            x, y = pixels[0]
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
        else:
            draw.line(pixels, fill=colour, width=2)
        legend_y = top + 8 + 16 * position
        draw.line([(right + 8, legend_y), (right + 28, legend_y)], fill=colour, width=2)
        draw.text((right + 32, legend_y), name, fill="black", font=font, anchor="lm")
    return image


def _span(low: float, high: float, *, pad: float) -> tuple[float, float]:
    """An axis range covering ``[low, high]`` with a margin; a single value gets a width."""
    if high == low:
        half = max(abs(low) * 0.1, 1.0)
        return low - half, high + half
    margin = (high - low) * pad
    return low - margin, high + margin
