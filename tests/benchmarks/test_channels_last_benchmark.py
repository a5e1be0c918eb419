"""``benchmarks/channels_last_benchmark.py``: the ``--quick`` run end to end.

No timing is asserted (figures depend on the machine and its load): only that every
variant ran and that the report's ratios are the ones its medians give.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmark_scripts import run_quick


@pytest.mark.slow
def test_quick_run_times_both_layouts_of_both_methods(tmp_path: Path) -> None:
    report, stdout = run_quick("channels_last_benchmark", tmp_path / "report.json")

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
    assert "| small3d | 4 x 3 x 12 x 32 x 32 | full |" in stdout
