"""``benchmarks/bias_report.py``: means, spreads, targets and the bar chart, by hand."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from benchmark_scripts import load_benchmark

report = load_benchmark("bias_report")


def _result(conflicting: float, static: float, gap: float, independent: float) -> dict[str, Any]:
    probe = {"aligned": 0.9, "conflicting": conflicting, "static": static, "bias_gap": gap}
    return {
        "biased_probe": {**probe, "contrasted": 0.1},
        "independent_probe": {
            "aligned": 0.5,
            "conflicting": independent,
            "static": static,
            "bias_gap": 0.0,
            "contrasted": 0.2,
        },
        "independent_retrieval_r1": 0.3,
    }


RUNS = [
    {"method": "moco", "seed": 0, "result": _result(0.0, 0.10, 0.90, 0.10)},
    {"method": "moco", "seed": 1, "result": _result(0.02, 0.14, 0.86, 0.14)},
    {"method": "full", "seed": 0, "result": _result(0.30, 0.20, 0.40, 0.60)},
    {"method": "full", "seed": 1, "result": _result(0.40, 0.24, 0.44, 0.70)},
]


def test_summary_is_mean_and_sample_std_in_percent() -> None:
    summary = report.summarise(RUNS)
    conflicting = summary["full"]["biased_probe.conflicting"]
    assert conflicting.mean == pytest.approx(35.0)
    assert conflicting.std == pytest.approx(7.0710678)  # stdev of 30 and 40
    assert conflicting.n == 2
    assert str(conflicting) == "35.0 ± 7.1"


def _runs(
    method: str,
    independent: list[float],
    biased: list[float],
    gap: list[float],
    static: list[float],
) -> list[dict[str, Any]]:
    """One run per seed; each list holds one value per seed (fractions, not percent)."""
    return [
        {"method": method, "seed": seed, "result": _result(*values)}
        for seed, values in enumerate(zip(biased, static, gap, independent, strict=True))
    ]


def test_moco_and_full_only_leave_out_the_fame_and_ablation_targets() -> None:
    targets = report.check_targets(report.summarise(RUNS))
    assert [t.name for t in targets] == [
        "independent probe: `conflicting` at least 80 %",
        "biased probe: `conflicting` at least 50 %",
        "biased probe: bias gap cut by at least half against MoCo",
        "independent probe: `static` at most 10 points above chance (12.5 %)",
    ]
    assert [t.measured for t in targets] == [
        "65.0 ± 7.1 %",  # 60 and 70
        "35.0 ± 7.1 %",  # 30 and 40
        "88.0 -> 42.0 (52 % cut)",
        "22.0 % (+9.5 points)",
    ]
    assert [t.met for t in targets] == [False, False, True, True]
    worse = [dict(run) for run in RUNS]
    worse[2] = {**worse[2], "result": _result(0.30, 0.40, 0.80, 0.60)}
    # full: gap (80 + 44) / 2 = 62 > 88 / 2; static (40 + 24) / 2 = 32 > 22.5.
    assert [t.met for t in report.check_targets(report.summarise(worse))] == [
        False,
        False,
        False,
        False,
    ]


# Three seeds in steps of d have a sample standard deviation of exactly d.
FULL = _runs(
    "full",
    independent=[0.80, 0.85, 0.90],  # 85 ± 5
    biased=[0.50, 0.55, 0.60],  # 55 ± 5
    gap=[0.20, 0.30, 0.40],  # 30 ± 10
    static=[0.20, 0.225, 0.25],  # 22.5 ± 2.5: chance + 10 exactly
)
MOCO = _runs("moco", [0.2] * 3, [0.05] * 3, [0.60] * 3, [0.15] * 3)  # gap 60: cut exactly half
FAME = _runs("fame", [0.80] * 3, [0.40] * 3, [0.35] * 3, [0.15] * 3)  # 5 points each way
# Own-background negative: +5 on conflicting against a larger std of 5 (not beyond), +10 on
# the gap against a larger std of 10 (not beyond): missed although both cost >= 3 points.
MERGE_MICRO = _runs("merge_micro", [0.80] * 3, [0.50] * 3, [0.40] * 3, [0.20] * 3)
# Micro term: +1 on conflicting (too little) but +15 on the gap against stds 10 and 10: met.
SEMI_NEGATIVE = _runs("semi_negative", [0.84] * 3, [0.50] * 3, [0.35, 0.45, 0.55], [0.2] * 3)


def test_all_targets_at_their_boundaries() -> None:
    runs = FULL + MOCO + FAME + MERGE_MICRO + SEMI_NEGATIVE
    targets = report.check_targets(report.summarise(runs))
    got = [(t.measured, t.met) for t in targets]
    assert got == [
        ("85.0 ± 5.0 %", True),
        ("55.0 ± 5.0 %", True),
        ("60.0 -> 30.0 (50 % cut)", True),
        ("22.5 % (+10.0 points)", True),
        ("80.0 -> 85.0 (+5.0 points)", True),
        ("35.0 -> 30.0 (-5.0 points)", True),
        ("indep. conflicting +5.0 (std 5.0), gap +10.0 (std 10.0)", False),
        ("indep. conflicting +1.0 (std 5.0), gap +15.0 (std 10.0)", True),
    ]
    assert targets[4].name == "independent probe: `conflicting` at least 5 points above FAME"
    assert targets[5].name == "biased probe: bias gap at least 5 points below FAME"
    assert "own-background hard negative (`merge_micro`)" in targets[6].name
    assert "micro term (`semi_negative`)" in targets[7].name


def test_ablation_just_beyond_one_std_earns_its_place() -> None:
    # 85 - 79.9 = 5.1 > max(5, 0): beyond one standard deviation, and >= 3 points.
    beyond = _runs("merge_micro", [0.799] * 3, [0.50] * 3, [0.30] * 3, [0.20] * 3)
    (target,) = report.check_targets(report.summarise(FULL + beyond))[-1:]
    assert (target.measured, target.met) == (
        "indep. conflicting +5.1 (std 5.0), gap +0.0 (std 10.0)",
        True,
    )


@pytest.mark.parametrize(("ablated", "met"), [(0.671, False), (0.67, True)])
def test_ablation_needs_three_points_even_beyond_std(ablated: float, met: bool) -> None:
    # One seed each: both standard deviations are 0, so any positive difference is beyond
    # one std; 70 - 67.1 = 2.9 points is too little, 70 - 67 = 3 points is enough.
    full = _runs("full", [0.70], [0.5], [0.3], [0.2])
    ablation = _runs("semi_negative", [ablated], [0.5], [0.3], [0.2])
    target = report.check_targets(report.summarise(full + ablation))[-1]
    assert target.met is met
    assert target.measured.endswith("gap +0.0 (std 0.0)")


def test_fame_targets_missed_by_a_hair() -> None:
    fame = _runs("fame", [0.801] * 3, [0.40] * 3, [0.349] * 3, [0.15] * 3)
    targets = report.check_targets(report.summarise(FULL + fame))
    assert [(t.measured, t.met) for t in targets[-2:]] == [
        ("80.1 -> 85.0 (+4.9 points)", False),
        ("34.9 -> 30.0 (-4.9 points)", False),
    ]


def test_no_full_no_targets() -> None:
    summary = report.summarise(MOCO + FAME)
    assert report.check_targets(summary) == []
    text = report.report_markdown({"runs": MOCO + FAME})
    assert "targets" not in text
    assert text.index("| `moco` | 3 |") < text.index("| `fame` | 3 |")


def test_sections_are_headed_by_the_family() -> None:
    old = report.report_markdown({"runs": RUNS})  # written before families
    assert old.startswith("## procedural family: results")
    assert "\n## procedural family: targets" in old
    photo = report.report_markdown({"family": "photo", "valid": True, "runs": RUNS})
    assert photo.startswith("## photo family: results")
    assert "Invalid" not in photo
    titled = report.report_markdown({"family": "photo", "runs": RUNS}, title="Photographs")
    assert titled.startswith("## Photographs: results")
    invalid = report.report_markdown({"valid": False, "validity_conflicting": 0.5, "runs": RUNS})
    assert "**Invalid run**" in invalid
    assert "(50.0 %)" in invalid


def test_methods_in_the_issue_order() -> None:
    names = ["extra", *reversed(report.METHOD_ORDER)]
    runs = [run for name in names for run in _runs(name, [0.5], [0.5], [0.5], [0.5])]
    text = report.markdown_table(report.summarise(runs))
    rows = [line.split("`")[1] for line in text.splitlines()[2:]]
    assert rows == [
        "random",
        "moco",
        "fame",
        "merge",
        "semi_negative",
        "merge_micro",
        "semi_negative_micro",
        "full",
        "supervised_biased",
        "supervised_independent",
        "extra",
    ]


def test_markdown_and_svg_from_the_command_line(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"runs": RUNS}))
    markdown, svg = tmp_path / "table.md", tmp_path / "bars.svg"
    assert report.main([str(results), "--markdown", str(markdown), "--svg", str(svg)]) == 0
    text = markdown.read_text()
    assert text.startswith("## procedural family: results")  # no "family" in the JSON
    assert text.index("| `moco` | 2 |") < text.index("| `full` | 2 |")
    assert "| `full` | 2 | 90.0 ± 0.0 | 35.0 ± 7.1 |" in text
    root = ET.fromstring(svg.read_text())
    bars = [e for e in root.iter("{http://www.w3.org/2000/svg}rect") if e.find("*") is not None]
    assert len(bars) == 2 * len(report.BARS)
    heights = {(e[0].text or "").split(":")[0]: float(e.get("height", 0)) for e in bars}
    # Plot height 240 px for 100 %: full's biased conflicting mean 35 % -> 84 px.
    assert heights["full biased_probe.conflicting"] == pytest.approx(84.0, abs=0.11)
    assert heights["moco biased_probe.conflicting"] == pytest.approx(2.4, abs=0.11)
    assert re.search(r"procedural family\. dashed: chance", svg.read_text())
    results.write_text(json.dumps({"family": "photo", "runs": RUNS}))
    assert report.main([str(results), "--markdown", str(markdown), "--title", "Photos"]) == 0
    assert markdown.read_text().startswith("## Photos: results")
