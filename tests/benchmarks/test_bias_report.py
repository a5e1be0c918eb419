"""``benchmarks/bias_report.py``: means, spreads, targets and the bar chart, by hand."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bias_report.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bias_report", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bias_report"] = module
    spec.loader.exec_module(module)
    return module


report = _load()


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


def test_targets_are_checked_against_moco() -> None:
    targets = report.check_targets(report.summarise(RUNS))
    assert [t.met for t in targets] == [True, True, True, True]
    assert targets[0].measured == "+34.0 points"  # 35 - 1
    assert targets[1].measured == "88.0 -> 42.0 (52 % cut)"
    assert targets[2].measured == "+53.0 points"  # 65 - 12
    assert targets[3].measured == "22.0 % (+9.5 points)"
    worse = [dict(run) for run in RUNS]
    worse[2] = {**worse[2], "result": _result(0.30, 0.40, 0.80, 0.60)}
    failed = report.check_targets(report.summarise(worse))
    assert [t.met for t in failed] == [True, False, True, False]


def test_markdown_and_svg_from_the_command_line(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"runs": RUNS}))
    markdown, svg = tmp_path / "table.md", tmp_path / "bars.svg"
    assert report.main([str(results), "--markdown", str(markdown), "--svg", str(svg)]) == 0
    text = markdown.read_text()
    assert text.index("| `moco` | 2 |") < text.index("| `full` | 2 |")
    assert "| `full` | 2 | 90.0 ± 0.0 | 35.0 ± 7.1 |" in text
    root = ET.fromstring(svg.read_text())
    bars = [e for e in root.iter("{http://www.w3.org/2000/svg}rect") if e.find("*") is not None]
    assert len(bars) == 2 * len(report.BARS)
    heights = {e[0].text.split(":")[0]: float(e.get("height", 0)) for e in bars}
    # Plot height 240 px for 100 %: full's biased conflicting mean 35 % -> 84 px.
    assert heights["full biased_probe.conflicting"] == pytest.approx(84.0, abs=0.11)
    assert heights["moco biased_probe.conflicting"] == pytest.approx(2.4, abs=0.11)
    assert re.search(r"dashed: chance", svg.read_text())
