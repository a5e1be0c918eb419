"""``benchmarks/channels_last_benchmark.py``: the ``--quick`` run end to end.

No timing is asserted (figures depend on the machine and its load): only that every
variant ran and that the report's ratios are the ones its medians give.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark_scripts import BENCHMARKS

SCRIPT = BENCHMARKS / "channels_last_benchmark.py"


@pytest.mark.slow
def test_quick_run_times_both_layouts_of_both_methods(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    report = json.loads(path.read_text())
    case = report["cases"]["small3d"]
    assert case["batch"] == [4, 3, 12, 32, 32]
    times = {name: entry["median_s"] for name, entry in case["times"].items()}
    assert set(times) == {
        "moco/default",
        "moco/channels_last",
        "full/default",
        "full/channels_last",
    }
    assert all(math.isfinite(value) and value > 0 for value in times.values())
    for method in ("moco", "full"):
        expected = times[f"{method}/default"] / times[f"{method}/channels_last"]
        assert case[f"{method}_speed_up"] == pytest.approx(expected)
    assert case["full_vs_moco_default"] == pytest.approx(
        times["full/default"] / times["moco/default"]
    )
    assert "| small3d | 4 x 3 x 12 x 32 x 32 | full |" in completed.stdout
