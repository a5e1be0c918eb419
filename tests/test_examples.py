from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_moco_loop_example_trains(tmp_path: Path) -> None:
    command = [
        sys.executable,
        str(EXAMPLES / "moco_from_blocks.py"),
        "--steps", "3", "--batch-size", "4", "--size", "32", "--videos", "16",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("step")]
    assert [line.split()[1] for line in lines] == ["0", "2"]
    assert all("wide" in line and "micro" in line for line in lines)


def test_inspect_blocks_example_writes_panels(tmp_path: Path) -> None:
    command = [sys.executable, str(EXAMPLES / "inspect_blocks.py"), "--output-dir", "out"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = {path.name for path in (tmp_path / "out").iterdir()}
    for kind in ("decoupler", "mixer", "saliency"):
        assert {f"{kind}-0.png", f"{kind}-2.gif"} <= names
    assert "foreground" in done.stdout
