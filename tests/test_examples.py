from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

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


def _argument_calls(script: Path) -> list[ast.Call]:
    tree = ast.parse(script.read_text(encoding="utf-8"))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_argument"
    ]


@pytest.mark.parametrize(
    "script", sorted(EXAMPLES.glob("*.py")) + sorted(EXAMPLES.glob("integrations/*.py")),
    ids=lambda path: path.name,
)  # fmt: skip
def test_every_example_option_has_help(script: Path) -> None:
    missing = [
        ast.literal_eval(call.args[0])
        for call in _argument_calls(script)
        if not any(keyword.arg == "help" for keyword in call.keywords)
    ]
    assert not missing, f"{script.name}: options without help text: {missing}"


@pytest.mark.parametrize(
    ("script", "option", "message"),
    [
        ("inspect_blocks.py", ["--clips", "1"], "--clips must be >= 2 (each clip needs a partner)"),
        ("moco_from_blocks.py", ["--batch-size", "1"], "--batch-size must be >= 2, got 1"),
        ("moco_from_blocks.py", ["--size", "8"], "--size must be >= 32, got 8"),
    ],
)
def test_bad_example_values_end_in_one_line(
    script: str, option: list[str], message: str, tmp_path: Path
) -> None:
    command = [sys.executable, str(EXAMPLES / script), *option]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith(f"{script}: error: {message}")
    assert done.stdout == ""
    assert not list(tmp_path.iterdir())
