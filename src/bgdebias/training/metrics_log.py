"""Training metrics to CSV and, when installed, TensorBoard."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TextIO


class MetricsLog:
    """Append rows of scalars to ``<run>/log.csv`` (and ``<run>/tensorboard`` if available).

    Args:
        output_dir: The run folder.
        enabled: Write anything at all (only the main process of a distributed run does).
        resume: Append to an existing log instead of starting a new one.
    """

    def __init__(self, output_dir: Path, *, enabled: bool = True, resume: bool = False) -> None:
        self.enabled = enabled
        self.path = output_dir / "log.csv"
        self._file: TextIO | None = None
        self._writer: csv.DictWriter[str] | None = None
        self._tensorboard: Any = None
        if not enabled:
            return
        output_dir.mkdir(parents=True, exist_ok=True)
        self._append = resume and self.path.exists()
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._tensorboard = SummaryWriter(str(output_dir / "tensorboard"))
        except ImportError:
            self._tensorboard = None

    def write(self, row: dict[str, float]) -> None:
        """Record one row; the first row fixes the CSV columns."""
        if not self.enabled:
            return
        if self._file is None:
            self._file = open(self.path, "a" if self._append else "w", newline="")  # noqa: SIM115
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=list(row))
            if not self._append:
                self._writer.writeheader()
        self._writer.writerow(row)
        self._file.flush()
        if self._tensorboard is not None:
            step = int(row["step"])
            for name, value in row.items():
                if name != "step":
                    self._tensorboard.add_scalar(f"pretrain/{name}", value, step)

    def close(self) -> None:
        """Flush and close the files."""
        if self._file is not None:
            self._file.close()
        if self._tensorboard is not None:
            self._tensorboard.close()


def read_log(path: Path) -> list[dict[str, float]]:
    """Read a ``log.csv`` back as a list of rows."""
    with open(path, newline="") as handle:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]
