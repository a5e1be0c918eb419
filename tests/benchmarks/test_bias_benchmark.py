from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bias_benchmark.py"


def test_quick_mode_produces_the_table(tmp_path: Path) -> None:
    """Smoke run: the pipeline trains, stress-tests and tabulates every method."""
    results = tmp_path / "results.json"
    command = [
        sys.executable, str(SCRIPT), "--quick", "--output-dir", str(tmp_path / "runs"),
        "--json", str(results), "--methods", "moco", "full", "random",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    payload = json.loads(results.read_text())
    methods = [run["method"] for run in payload["runs"]]
    assert methods == ["supervised_independent", "moco", "full", "random"]
    for line in ("moco", "full", "random", "supervised_independent"):
        assert any(row.startswith(line) for row in payload["table"].splitlines())
    assert "validity: supervised on independent reaches" in done.stdout
    assert payload["complete"] is True
    assert payload["family"] == "procedural"
    assert payload["config"]["one_frame_still_keys"] is False  # the default
    assert payload["config"]["micro_negative_saliency"] == "own"  # the default


def test_quick_photo_family_with_fame(tmp_path: Path) -> None:
    """The second family (photographs, textured actor) and the FAME baseline run."""
    results = tmp_path / "photo.json"
    command = [
        sys.executable, str(SCRIPT), "--quick", "--family", "photo",
        "--output-dir", str(tmp_path / "runs"), "--json", str(results),
        "--methods", "fame", "full", "--one-frame-still-keys",
        "--micro-negative-saliency", "positive",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    payload = json.loads(results.read_text())
    assert payload["family"] == "photo"
    assert payload["complete"] is True
    assert payload["config"]["synthetic_backgrounds"] == "photo"
    assert payload["config"]["synthetic_actor"] == "textured"
    assert payload["config"]["one_frame_still_keys"] is True
    assert payload["config"]["micro_negative_saliency"] == "positive"
    assert [run["method"] for run in payload["runs"]] == ["supervised_independent", "fame", "full"]


def test_unknown_methods_are_refused() -> None:
    command = [sys.executable, str(SCRIPT), "--quick", "--methods", "mocco"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    assert "unknown methods ['mocco']" in done.stderr
