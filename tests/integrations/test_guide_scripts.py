"""The guides' files run as the pages say: ``python examples/integrations/<file> --steps N``."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

GUIDES = Path(__file__).resolve().parents[2] / "examples" / "integrations"
SRC = Path(__file__).resolve().parents[2] / "src"

#: script -> (optional dependency or None, a word every printed step line holds)
SCRIPTS = {
    "moco_v2_queue.py": (None, "wide"),
    "lightly_moco.py": ("lightly", "wide"),
    "lightning_moco.py": ("lightning", "micro"),
}


@pytest.mark.parametrize("script", SCRIPTS)
def test_guide_runs_as_a_script(script: str, tmp_path: Path) -> None:
    dependency, word = SCRIPTS[script]
    if dependency is not None and importlib.util.find_spec(dependency) is None:
        pytest.skip(f"{dependency} is not installed")
    paths = [str(SRC), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    command = [sys.executable, str(GUIDES / script), "--steps", "2", "--batch-size", "2"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=environment
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if word in line]
    assert lines, done.stdout
    assert not list(tmp_path.iterdir())  # nothing written beside the run


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_guide_refuses_a_batch_of_one_in_one_line(script: str, tmp_path: Path) -> None:
    dependency, _ = SCRIPTS[script]
    if dependency is not None and importlib.util.find_spec(dependency) is None:
        pytest.skip(f"{dependency} is not installed")
    paths = [str(SRC), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    command = [sys.executable, str(GUIDES / script), "--batch-size", "1"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=environment
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"{script}: error: --batch-size must be >= 2 (each clip needs a partner), got 1"
    )
    assert done.stdout == ""  # nothing trained
