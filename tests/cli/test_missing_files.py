"""A listed video that is missing: the error names --missing-files, which the CLI accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bgdebias.cli import main
from bgdebias.data import MovingSpriteDataset, export_ucf101_layout
from bgdebias.training import latest_checkpoint

TINY = [
    "--device", "cpu", "--size", "32", "--batch-size", "4", "--queue-size", "16",
    "--hidden-dim", "32", "--embed-dim", "16", "--jitter-p", "0", "--no-progress",
    "--num-frames", "4", "--backbone", "small3d", "--steps", "1",
]  # fmt: skip


@pytest.fixture
def tree_with_a_missing_video(tmp_path: Path) -> Path:
    common = {"num_classes": 2, "num_frames": 12, "size": 32, "seed": 3}
    train = MovingSpriteDataset(split="train", length=9, **common)  # type: ignore[arg-type]
    test = MovingSpriteDataset(split="conflicting", length=4, **common)  # type: ignore[arg-type]
    root = export_ucf101_layout(tmp_path / "ucf101", train, test)
    listed = (root / "trainlist01.txt").read_text().split()[0]
    (root / listed).unlink()  # listed in the training split, gone from the disk
    return root


def test_the_error_names_the_option_and_the_option_works(
    tree_with_a_missing_video: Path, tmp_path: Path
) -> None:
    root = str(tree_with_a_missing_video)
    argv = ["pretrain", *TINY, "--dataset", "ucf101", "--root", root]
    done = subprocess.run(
        [sys.executable, "-m", "bgdebias", *argv, "--output-dir", str(tmp_path / "refused")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("bgdebias pretrain: error: UCF101: 1 listed video(s) are missing")
    assert "pass --missing-files skip" in done.stderr
    assert "missing_files" not in done.stderr
    assert not (tmp_path / "refused").exists()

    run = tmp_path / "run"
    options = ["--missing-files", "skip", "--output-dir", str(run)]
    assert main([*argv, *options]) == 0
    checkpoint = str(latest_checkpoint(run))
    results = tmp_path / "linear.json"
    evaluate = ["evaluate", "--checkpoint", checkpoint, "--protocol", "linear", "--root", root,
                "--clips", "1", "--output", str(results)]  # fmt: skip
    assert main(evaluate) == 2  # the same advice from evaluate ...
    assert main([*evaluate, "--missing-files", "skip"]) == 0  # ... and it works there too
    assert 0.0 <= json.loads(results.read_text())["top1"] <= 1.0
