"""Every command's errors are one line naming the problem, with status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bgdebias.cli import evaluate, main


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            "pretrain --config {tmp}/run.yaml",
            "cannot parse --config {tmp}/run.yaml: mapping values are not allowed here (line 2)",
        ),
        (
            "evaluate --checkpoint {tmp}/notes.txt",
            "checkpoint {tmp}/notes.txt is truncated or not a PyTorch checkpoint "
            "(16 bytes, not a complete zip archive)",
        ),
        (
            "evaluate --checkpoint {tmp}",
            "checkpoint {tmp} is a folder, not a checkpoint file",
        ),
    ],
)
def test_unreadable_inputs_are_one_line(
    tmp_path: Path, command: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "run.yaml").write_text("method: moco\n  steps: 3\n")
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    argv = command.format(tmp=tmp_path).split()
    assert main(argv) == 2
    assert capsys.readouterr().err == f"bgdebias {argv[0]}: error: {message.format(tmp=tmp_path)}\n"


def test_a_config_that_does_not_parse_exits_with_status_2_and_no_traceback(
    tmp_path: Path,
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("method: moco\n  steps: 3\n")
    done = subprocess.run(
        [sys.executable, "-m", "bgdebias", "pretrain", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"bgdebias pretrain: error: cannot parse --config {config}: "
        "mapping values are not allowed here (line 2)\n"
    )


def test_os_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_run(_args: object) -> int:
        raise PermissionError(13, "Permission denied", "/runs/results.json")

    monkeypatch.setattr(evaluate, "run", failing_run)
    assert main(["evaluate", "--checkpoint", "x.pt"]) == 2
    assert capsys.readouterr().err == (
        "bgdebias evaluate: error: [Errno 13] Permission denied: '/runs/results.json'\n"
    )
