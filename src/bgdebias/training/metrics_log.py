"""Training metrics to CSV and, when installed, TensorBoard."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO


class MetricsLog:
    """Append rows of scalars to ``<run>/log.csv`` (and ``<run>/tensorboard`` if available).

    Args:
        output_dir: The run folder.
        enabled: Write anything at all (only the main process of a distributed run does).
        start_step: The step the run starts from. A resumed run (``start_step > 0``) keeps
            the rows of an existing log up to that step, drops the later ones (written
            after the checkpoint it resumes from, by a run that was then killed), and
            appends; a new run starts a new log.
        columns: The CSV columns, ``step`` first; a row may leave some out (an empty cell,
            read back as ``nan`` by :func:`read_log`). ``None``: the first row's keys. A
            resumed log keeps its columns and gains the new ones (earlier rows empty there).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     first = MetricsLog(Path(folder))
        ...     for step in (1, 2, 3):  # the run is killed after step 3, its checkpoint is step 2
        ...         first.write({"step": step, "loss": 1.0 / step})
        ...     first.close()
        ...     resumed = MetricsLog(Path(folder), start_step=2)
        ...     resumed.write({"step": 3, "loss": 0.3})
        ...     resumed.close()
        ...     [row["step"] for row in read_log(Path(folder) / "log.csv")]
        [1.0, 2.0, 3.0]
    """

    def __init__(
        self,
        output_dir: Path,
        *,
        enabled: bool = True,
        start_step: int = 0,
        columns: Sequence[str] | None = None,
    ) -> None:
        self.enabled = enabled
        self.path = output_dir / "log.csv"
        self._file: TextIO | None = None
        self._writer: csv.DictWriter[str] | None = None
        self._tensorboard: Any = None
        self._columns = list(columns) if columns is not None else None
        if not enabled:
            return
        output_dir.mkdir(parents=True, exist_ok=True)
        self._append = False
        if start_step > 0 and self.path.exists():
            header = _keep_rows(self.path, start_step, self._columns or [])
            self._append = header is not None
            self._columns = header or self._columns
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._tensorboard = SummaryWriter(str(output_dir / "tensorboard"))
        except ImportError:
            self._tensorboard = None

    def write(self, row: dict[str, float]) -> None:
        """Record one row (without ``columns``, the first row fixes the CSV columns)."""
        if not self.enabled:
            return
        if self._file is None:
            self._file = open(self.path, "a" if self._append else "w", newline="")  # noqa: SIM115
        if self._writer is None:
            columns = self._columns if self._columns is not None else list(row)
            self._writer = csv.DictWriter(self._file, fieldnames=columns, restval="")
            if not self._append:
                self._writer.writeheader()
        self._writer.writerow(row)
        self._file.flush()
        if self._tensorboard is not None:
            step = int(row["step"])
            for name, value in row.items():
                if name != "step":
                    self._tensorboard.add_scalar(f"pretrain/{name}", value, step)

    @property
    def tensorboard(self) -> Any:
        """The ``SummaryWriter`` of ``<run>/tensorboard``, or ``None`` (not installed)."""
        return self._tensorboard

    def close(self) -> None:
        """Flush and close the files."""
        if self._file is not None:
            self._file.close()
        if self._tensorboard is not None:
            self._tensorboard.close()


def read_log(path: Path) -> list[dict[str, float]]:
    """Read a ``log.csv`` back as a list of rows; an empty cell reads as ``nan``."""
    with open(path, newline="") as handle:
        return [
            {k: float(v) if v else math.nan for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]


def _keep_rows(path: Path, last_step: int, columns: Sequence[str]) -> list[str] | None:
    """Keep the rows up to ``last_step`` and add the missing ``columns`` (atomically).

    Returns:
        The columns of the log, or ``None`` for a log without a header (start anew).
    """
    with open(path, newline="") as handle:
        lines = handle.read().splitlines(keepends=True)
    if not lines or not lines[0].endswith("\n"):
        return None
    header = lines[0].rstrip("\r\n").split(",")
    added = [name for name in columns if name not in header]
    # A last line without its newline was cut by a kill.
    kept = [line for line in lines[1:] if line.endswith("\n") and _row_step(line) <= last_step]
    if added:
        header += added
        kept = [line.rstrip("\r\n") + "," * len(added) + "\r\n" for line in kept]
    if added or len(kept) != len(lines) - 1:
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "w", newline="") as handle:
            handle.write(",".join(header) + "\r\n" + "".join(kept))
        os.replace(temporary, path)
    return header


def _row_step(line: str) -> float:
    first = line.split(",", 1)[0].strip()
    try:
        return float(first)
    except ValueError:
        return math.inf  # a row cut short by a kill: drop it
