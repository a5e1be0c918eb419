"""log.csv with declared columns: rows that leave some out, and a resumed log gaining one."""

from __future__ import annotations

import math
from pathlib import Path

from bgdebias.training.metrics_log import MetricsLog, read_log


def test_a_row_may_leave_a_declared_column_empty(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path, columns=["step", "loss", "knn_top1"])
    log.write({"step": 1, "loss": 2.0})
    log.write({"step": 2, "loss": 1.5, "knn_top1": 0.25})
    log.close()
    assert (tmp_path / "log.csv").read_text().splitlines() == [
        "step,loss,knn_top1",
        "1,2.0,",
        "2,1.5,0.25",
    ]
    rows = read_log(tmp_path / "log.csv")
    assert math.isnan(rows[0]["knn_top1"])
    assert rows[1]["knn_top1"] == 0.25


def test_a_resumed_log_gains_new_columns_and_drops_rows_after_the_checkpoint(
    tmp_path: Path,
) -> None:
    first = MetricsLog(tmp_path, columns=["step", "loss"])
    for step in (1, 2, 3, 4):
        first.write({"step": step, "loss": float(step)})
    first.close()
    with open(tmp_path / "log.csv", "a") as handle:
        handle.write("1")  # the row of step 10, cut by a kill: its step reads as 1
    resumed = MetricsLog(tmp_path, start_step=3, columns=["step", "loss", "knn_top1"])
    resumed.write({"step": 4, "loss": 0.5, "knn_top1": 0.75})
    resumed.close()
    assert (tmp_path / "log.csv").read_text().splitlines() == [
        "step,loss,knn_top1",
        "1,1.0,",
        "2,2.0,",
        "3,3.0,",
        "4,0.5,0.75",
    ]
