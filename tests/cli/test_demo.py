"""``bgdebias demo``: a table that fits a terminal, the steps of each method, checkpoints
along the way and ``--resume``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bgdebias.cli import main
from bgdebias.cli._demo_report import DEMO_COLUMNS, LEGEND, format_demo_table
from bgdebias.evaluation import make_stress_splits
from bgdebias.experiments import MethodRun, run_bias_comparison
from bgdebias.training import PretrainConfig, list_checkpoints, pretrain


def _fake_result(conflicting: float) -> dict[str, Any]:
    probe = {"aligned": 0.98, "conflicting": conflicting, "static": 0.965, "bias_gap": 0.5}
    return {
        "biased_probe": probe,
        "independent_probe": {**probe, "contrasted": 0.043},
        "independent_retrieval_r1": 0.3,
    }


def _fake_runs(steps: int) -> list[MethodRun]:
    return [
        MethodRun("moco", 0, _fake_result(0.016), 1.0, None, steps),  # type: ignore[arg-type]
        MethodRun("full", 0, _fake_result(0.367), 1.0, None, steps),  # type: ignore[arg-type]
    ]


def test_the_table_fits_100_columns_with_steps_and_a_legend() -> None:
    lines = format_demo_table(_fake_runs(300)).splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[0].split() == ["method", "steps", *(column for _, column in DEMO_COLUMNS)]
    assert lines[2].split()[:4] == ["moco", "300", "98.0", "1.6"]
    assert lines[3].split()[:4] == ["full", "300", "98.0", "36.7"]
    assert lines[-len(LEGEND) :] == list(LEGEND)
    legend = " ".join(LEGEND)
    for word in ("steps", "B.", "I.", "align", "confl", "static", "gap", "contr"):
        assert f"{word}:" in legend or f"({word})" in legend or f"{word} " in legend


def test_the_demo_prints_and_saves_the_steps_with_periodic_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bgdebias.experiments as experiments

    seen: dict[str, Any] = {}

    def comparison(_methods: list[str], **options: Any) -> list[MethodRun]:
        seen.update(options)
        runs = _fake_runs(options["base"].steps)
        for run in runs:
            options["on_result"](run)
        return runs

    monkeypatch.setattr(experiments, "run_bias_comparison", comparison)
    out = tmp_path / "demo"
    assert main(["demo", "--steps", "300", "--output-dir", str(out), "--no-progress"]) == 0
    assert seen["base"].checkpoint_every == 50  # six checkpoints in a run of 300 steps
    assert seen["resume"] is False
    stdout = capsys.readouterr().out
    table = stdout[stdout.index("method  steps") :].splitlines()[: 5 + len(LEGEND)]
    assert table[-1] == LEGEND[-1]
    assert max(len(line) for line in table) <= 100
    results = json.loads((out / "results.json").read_text())
    assert {method: entry["steps"] for method, entry in results.items()} == {
        "moco": 300,
        "full": 300,
    }
    assert results["full"]["biased_probe"]["conflicting"] == 0.367
    assert (out / "results.txt").read_text().splitlines()[-1] == LEGEND[-1]

    # --resume reaches the comparison and may reuse a folder holding an earlier demo;
    # --checkpoint-every overrides the default.
    assert main(["demo", "--steps", "8", "--output-dir", str(out), "--resume",
                 "--checkpoint-every", "3", "--no-progress"]) == 0  # fmt: skip
    assert seen["resume"] is True
    assert seen["base"].checkpoint_every == 3
    assert json.loads((out / "results.json").read_text())["moco"]["steps"] == 8


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--resume", "--overwrite"], "--overwrite and --resume exclude each other; choose one"),
        (["--checkpoint-every", "0"], "--checkpoint-every must be >= 1, got 0"),
    ],
)
def test_bad_demo_options_end_in_one_line(options: list[str], message: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bgdebias", "demo", "--output-dir", str(tmp_path), *options]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr == f"bgdebias demo: error: {message}\n"
    assert not list(tmp_path.iterdir())


def test_the_comparison_resumes_each_run_from_its_newest_checkpoint(tmp_path: Path) -> None:
    """moco was interrupted after a checkpoint, full was killed before its first one."""
    base = PretrainConfig(
        steps=4, checkpoint_every=2, keep_checkpoints=4, size=32, batch_size=4,
        synthetic_videos=8, queue_size=8, hidden_dim=16, embed_dim=8, jitter_p=0.0,
        device="cpu",
    )  # fmt: skip
    moco = dataclasses.replace(base, method="moco", output_dir=str(tmp_path / "moco-seed0"))
    assert pretrain(moco, progress=False, stop_at_step=2).step == 2
    (interrupted,) = list_checkpoints(tmp_path / "moco-seed0")
    written = interrupted.stat().st_mtime_ns
    (tmp_path / "full-seed0").mkdir()
    (tmp_path / "full-seed0" / "log.csv").write_text("step,loss\n1,2.0\n")

    splits = make_stress_splits(train_length=16, test_length=8, size=32)
    runs = run_bias_comparison(
        ["moco", "full"], base=base, splits=splits, output_dir=tmp_path, progress=False,
        resume=True,
    )  # fmt: skip
    assert [(run.method, run.steps) for run in runs] == [("moco", 4), ("full", 4)]
    # moco continued: its step-2 checkpoint is the one written before the interruption.
    assert interrupted.stat().st_mtime_ns == written
    for method in ("moco", "full"):  # a checkpoint every 2 steps, not only at the end
        names = [path.name for path in list_checkpoints(tmp_path / f"{method}-seed0")]
        assert names == ["checkpoint-00000002.pt", "checkpoint-00000004.pt"]
    with pytest.raises(ValueError, match="`overwrite` and `resume` exclude each other"):
        run_bias_comparison(["moco"], base=base, output_dir=tmp_path, overwrite=True, resume=True)
