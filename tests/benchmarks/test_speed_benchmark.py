"""Smoke test of ``benchmarks/speed_benchmark.py --quick``: it runs and reports every figure.

No timing is asserted (the figures depend on the machine and its load); only that the
JSON report holds the expected keys and positive numbers.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from benchmark_scripts import run_quick

METHODS = ("moco", "merge", "semi_negative", "full", "full_one_frame_still_keys")
PARTS = (
    "augmentation_two_views",
    "decoupler",
    "mixer_and_key_batch",
    "key_encoder_B",
    "key_encoder_2B_moving",
    "key_encoder_2B_still_one_frame",
    "key_encoder_2B_still_whole_clips",
    "micro_query_fwd_bwd",
    "micro_key_fwd_2B",
)
EXTRA_COST = (
    "total",
    "extra_key_encoder_passes",
    "decoupler_mixer_key_batch",
    "micro_branch",
    "unattributed",
)
TARGETS = (
    "small3d_step_time_ratio",
    "small3d_peak_memory_ratio",
    "r3d_18_step_time_ratio",
    "r3d_18_peak_memory_ratio",
    "blocks_fraction_of_r3d_18_step",
    "motion_aware_fraction_of_r3d_18_forward",
)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """Run the script once in quick mode (one thread: robust on a busy 2-core machine)."""
    return run_quick(
        "speed_benchmark",
        tmp_path_factory.mktemp("speed") / "speed.json",
        "--threads",
        "1",
        "--device",
        "cpu",
    )


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def _check_timing(timing: dict[str, Any]) -> None:
    assert _positive(timing["median_s"])
    assert timing["iqr_s"] >= 0
    assert timing["runs"] >= 1
    assert all(_positive(value) for value in timing["pass_medians_s"])


@pytest.mark.slow
def test_machine_and_settings(quick_report: tuple[dict[str, Any], str]) -> None:
    report, _ = quick_report
    machine = report["machine"]
    assert machine["cpu_model"]
    assert _positive(machine["cpu_cores"])
    assert machine["torch_threads"] == 1
    assert machine["device"] == "cpu"
    assert machine["torch"]
    assert report["settings"]["step_passes"] == 1
    assert _positive(report["wall_s"])
    assert set(report["load_average"]) == {
        "recipe_step_small3d",
        "recipe_step_r3d_18",
        "blocks_vs_r3d_18",
        "scaling",
    }
    assert report["command"].startswith("python benchmarks/speed_benchmark.py --quick")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backbone", "methods"),
    [("small3d", METHODS), ("r3d_18", ("moco", "full", "full_one_frame_still_keys"))],
)
def test_recipe_step(
    quick_report: tuple[dict[str, Any], str], backbone: str, methods: tuple[str, ...]
) -> None:
    data = quick_report[0]["recipe_step"][backbone]
    assert set(data["steps"]) == set(methods)
    for timing in data["steps"].values():
        _check_timing(timing)
    assert _positive(data["time_ratio_full_vs_moco"])
    assert all(_positive(value) for value in data["time_ratio_per_pass"])
    assert tuple(data["parts"]) == PARTS
    for timing in data["parts"].values():
        _check_timing(timing)
    assert tuple(data["extra_cost_s"]) == EXTRA_COST
    assert all(math.isfinite(value) for value in data["extra_cost_s"].values())
    assert len(data["method_ladder_increments_s"]) == len(methods) - 1
    memory = data["memory"]
    for row in (memory["moco"], memory["full_one_frame_still_keys"], memory["full"]):
        assert _positive(row["peak_mib"])
        assert _positive(row["before_step_mib"])
        assert row["step_increase_mib"] >= 0
        assert _positive(row["peak_above_baseline_mib"])
    assert _positive(memory["step_increase_ratio"])
    assert _positive(memory["peak_above_baseline_ratio"])
    assert _positive(memory["one_frame_still_keys_step_increase_ratio"])
    assert _positive(data["time_ratio_one_frame_still_keys_vs_moco"])


@pytest.mark.slow
def test_blocks_against_backbone(quick_report: tuple[dict[str, Any], str]) -> None:
    data = quick_report[0]["blocks_vs_r3d_18"]
    assert set(data["backbone"]) == {"r3d_18_fwd_bwd", "r3d_18_fwd"}
    for timing in (*data["backbone"].values(), *data["blocks"].values()):
        _check_timing(timing)
    assert "decoupler_and_mixer_recipe_of_fwd_bwd" in data["fractions"]
    assert "motion_aware_fwd_of_fwd" in data["fractions"]
    assert all(_positive(value) for value in data["fractions"].values())
    assert len(data["layer3_features"]) == 5


@pytest.mark.slow
def test_scaling(quick_report: tuple[dict[str, Any], str]) -> None:
    data = quick_report[0]["scaling"]
    assert set(data) == {"decoupler_and_mixer", "motion_aware"}
    for sweep in data.values():
        assert set(sweep["axes"]) == {"B", "T", "HW"}
        for axis in sweep["axes"].values():
            assert len(axis["sizes"]) == len(axis["median_s"]) == 3
            assert all(_positive(value) for value in axis["median_s"])
            assert math.isfinite(axis["exponent"])


@pytest.mark.slow
def test_targets_and_printed_tables(quick_report: tuple[dict[str, Any], str]) -> None:
    report, stdout = quick_report
    assert tuple(report["targets"]) == TARGETS
    for target in report["targets"].values():
        assert _positive(target["value"])
        assert isinstance(target["met"], bool)
    for heading in ("## Machine", "## Recipe step, small3d", "## Recipe step, r3d_18"):
        assert heading in stdout
    assert "## Targets" in stdout
    assert "still negatives from one frame each (full_one_frame_still_keys) / moco" in stdout
