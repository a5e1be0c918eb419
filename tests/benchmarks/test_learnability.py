"""Smoke test of ``benchmarks/learnability.py``: a tiny supervised run on chosen data.

Trains 2 steps on 16 videos (photographs, coloured actor) and checks that the table holds
one row per evaluation with accuracies in [0, 100] (no accuracy level is asserted: 2 steps
learn nothing).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "learnability.py"


def test_reports_a_row_per_evaluation_for_the_chosen_data() -> None:
    pytest.importorskip("skimage")
    backgrounds, actor = "photo", "colour"
    command = [sys.executable, str(SCRIPT), "--steps", "2", "--seeds", "0", "--eval-every", "1"]
    command += ["--train-videos", "16", "--test-videos", "8", "--threads", "1"]
    command += ["--backgrounds", backgrounds, "--actor", actor]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    lines = done.stdout.splitlines()
    assert f"backgrounds={backgrounds} actor={actor}" in lines[0]
    rows = [line for line in lines if line.startswith("| 0 |")]
    assert [row.split("|")[2].strip() for row in rows] == ["1", "2"]  # steps 1 and 2
    for row in rows:
        accuracies = [float(cell) for cell in row.strip("|").split("|")[3:]]
        assert len(accuracies) == 3
        assert all(0.0 <= value <= 100.0 for value in accuracies)


def test_rejects_an_unknown_actor() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--actor", "person"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "invalid choice: 'person'" in done.stderr
