"""A folder that holds a run is only continued (--resume) or replaced (--overwrite)."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bgdebias.cli import main
from bgdebias.training import PretrainConfig, list_checkpoints, pretrain
from bgdebias.training.metrics_log import read_log

TINY = [
    "--device", "cpu", "--size", "32", "--batch-size", "4", "--synthetic-videos", "16",
    "--queue-size", "16", "--hidden-dim", "32", "--embed-dim", "16", "--jitter-p", "0",
    "--no-progress", "--log-every", "1",
]  # fmt: skip


def _tiny_config(output_dir: Path, **changes: object) -> PretrainConfig:
    settings: dict[str, object] = {"steps": 8, "checkpoint_every": 2, "log_every": 1}
    return PretrainConfig.smoke(output_dir=str(output_dir), **{**settings, **changes})


def _names(folder: Path) -> list[str]:
    return [path.name for path in list_checkpoints(folder)]


def test_a_new_run_is_refused_in_a_run_folder_unless_overwrite(tmp_path: Path) -> None:
    """The reported case: 8 steps, then 3 steps into the same folder without --resume."""
    run = tmp_path / "R"
    pretrain(_tiny_config(run), progress=False)
    config_before = (run / "config.json").read_bytes()
    command = [sys.executable, "-m", "bgdebias", "pretrain", *TINY, "--steps", "3",
               "--checkpoint-every", "1", "--output-dir", str(run)]  # fmt: skip
    refused = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"bgdebias pretrain: error: `output_dir` {run} already ")
    assert "config.json, log.csv" in refused.stderr
    assert "checkpoints up to step 8): continue it with --resume, choose another " in refused.stderr
    assert refused.stderr.endswith("or replace it with --overwrite\n")
    assert refused.stderr.count("\n") == 1
    assert (run / "config.json").read_bytes() == config_before
    assert _names(run) == ["checkpoint-00000006.pt", "checkpoint-00000008.pt"]

    command.append("--overwrite")
    replaced = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert replaced.returncode == 0, replaced.stderr
    assert _names(run) == ["checkpoint-00000002.pt", "checkpoint-00000003.pt"]
    printed = Path(replaced.stdout.split("checkpoint: ")[1].strip())
    assert printed == run / "checkpoint-00000003.pt"
    assert printed.exists()
    assert json.loads((run / "config.json").read_text())["steps"] == 3
    assert [row["step"] for row in read_log(run / "log.csv")] == [1, 2, 3]


def _contents(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_a_failing_command_leaves_the_run_folder_untouched(tmp_path: Path) -> None:
    """Data checked before writing: the documented `--config R/config.json --resume` works."""
    run = tmp_path / "R"
    pretrain(_tiny_config(run, steps=2), progress=False)
    saved = _contents(run)  # with tensorboard installed, also its event files
    config = str(run / "config.json")
    bad = ["pretrain", "--config", config, "--synthetic-videos", "2", "--resume", "--no-progress"]
    assert main(bad) == 2  # two videos are fewer than one batch of four
    assert _contents(run) == saved
    assert main(["pretrain", "--config", config, "--resume", "--steps", "3", "--no-progress"]) == 0
    assert _names(run) == ["checkpoint-00000002.pt", "checkpoint-00000003.pt"]


def test_resume_and_overwrite_are_refused_where_they_would_mix_runs(tmp_path: Path) -> None:
    run = tmp_path / "R"
    config = _tiny_config(run, steps=4)
    pretrain(config, progress=False)  # checkpoints 2 and 4
    older = run / "checkpoint-00000002.pt"
    with pytest.raises(ValueError, match=re.escape("--overwrite starts a new run; it cannot be")):
        pretrain(config, resume=True, overwrite=True, progress=False)
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"`output_dir` {run} holds checkpoints newer than checkpoint-00000002.pt "
            "(checkpoint-00000004.pt): continuing from it there would mix two runs"
        ),
    ):
        pretrain(config, resume=str(older), progress=False)
    other = dataclasses.replace(config, output_dir=str(tmp_path / "other"))
    pretrain(dataclasses.replace(other, steps=1), progress=False)
    with pytest.raises(ValueError, match=re.escape(f"to continue {older} choose an empty")):
        pretrain(other, resume=str(older), progress=False)
    # Into an empty folder, an older checkpoint continues as its own run.
    branch = dataclasses.replace(config, output_dir=str(tmp_path / "branch"))
    assert pretrain(branch, resume=str(older), progress=False).step == 4


def test_the_comparison_checks_every_run_folder_before_training(tmp_path: Path) -> None:
    from bgdebias.experiments import run_bias_comparison

    (tmp_path / "full-seed0").mkdir()
    (tmp_path / "full-seed0" / "log.csv").write_text("step,loss\n1,2.0\n")
    with pytest.raises(
        ValueError, match=re.escape(f"run folder {tmp_path / 'full-seed0'} already holds a run")
    ):
        run_bias_comparison(["moco", "full"], output_dir=tmp_path, progress=False)
    assert not (tmp_path / "moco-seed0").exists()  # nothing was trained


def test_the_demo_refuses_earlier_results_without_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "results.json").write_text("{}")
    assert main(["demo", "--output-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"bgdebias demo: error: --output-dir {tmp_path} holds the results of an earlier demo "
        "(results.json): choose another --output-dir, continue it with --resume or replace it "
        "with --overwrite\n"
    )
