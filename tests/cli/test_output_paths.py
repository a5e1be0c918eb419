"""Unusable output paths end in one line naming the path, before any work starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bgdebias.cli import main

TINY = ["--device", "cpu", "--size", "32", "--batch-size", "4", "--no-progress", "--steps", "1"]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            "pretrain {tiny} --output-dir {file}",
            "bgdebias pretrain: error: `output_dir` {file} is a file, not a folder",
        ),
        (
            "pretrain {tiny} --output-dir {file}/run",
            "bgdebias pretrain: error: `output_dir` {file}/run cannot be created: {file} is a file",
        ),
        (
            "demo --output-dir {file}/demo",
            "bgdebias demo: error: --output-dir {file}/demo cannot be created: {file} is a file",
        ),
        (
            "evaluate --checkpoint {tmp}/none.pt --output {tmp}",
            "bgdebias evaluate: error: --output {tmp} is a folder; "
            "give a file name such as {tmp}/results.json",
        ),
        (
            "heatmap --checkpoint {tmp}/none.pt --output-dir {file}",
            "bgdebias heatmap: error: --output-dir {file} is a file, not a folder",
        ),
    ],
)
def test_unusable_output_paths_fail_at_once_in_one_line(
    tmp_path: Path, command: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("keep me")
    names = {"tiny": " ".join(TINY), "file": str(file), "tmp": str(tmp_path)}
    assert main(command.format(**names).split()) == 2
    assert capsys.readouterr().err == message.format(**names) + "\n"
    assert list(tmp_path.iterdir()) == [file]
    assert file.read_text() == "keep me"


def test_the_command_exits_with_status_2_and_no_traceback(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("keep me")
    done = subprocess.run(
        [sys.executable, "-m", "bgdebias", "pretrain", *TINY, "--output-dir", str(file)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2
    assert done.stderr == f"bgdebias pretrain: error: `output_dir` {file} is a file, not a folder\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_output_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert main(["pretrain", *TINY, "--output-dir", str(locked / "run")]) == 2
    finally:
        locked.chmod(0o700)
    assert capsys.readouterr().err == (
        f"bgdebias pretrain: error: `output_dir` {locked}/run is not writable "
        f"(in {locked}): Permission denied\n"
    )
