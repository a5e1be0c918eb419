"""SIGINT/SIGTERM stop every command promptly, say what was saved, exit with 130/143."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from bgdebias.cli import main
from bgdebias.training import (
    RunInterrupted,
    latest_checkpoint,
    load_checkpoint,
)

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bias_benchmark.py"
TINY = [
    "--device", "cpu", "--size", "32", "--batch-size", "4", "--synthetic-videos", "16",
    "--queue-size", "16", "--hidden-dim", "32", "--embed-dim", "16", "--jitter-p", "0",
    "--no-progress",
]  # fmt: skip


def bgdebias(*args: str) -> list[str]:
    return [sys.executable, "-m", "bgdebias", *args]


def test_a_second_sigint_ends_pretraining_at_once(tmp_path: Path, start: Any) -> None:
    # Steps long enough (64 px, batch 16) that the second signal lands inside the step.
    options = [*TINY, "--size", "64", "--batch-size", "16", "--log-every", "1"]
    run = start(bgdebias("pretrain", *options, "--steps", "100000", "--output-dir", str(tmp_path)))
    run.wait_for_file(tmp_path / "log.csv")  # the first step is done
    run.process.send_signal(signal.SIGINT)
    run.wait_for_line("SIGINT received, stopping after this step", stream="stderr")
    run.process.send_signal(signal.SIGINT)
    code, stdout, _ = run.finish()
    assert code == -signal.SIGINT  # killed by the signal itself, not a clean exit
    assert "finished" not in stdout


def test_demo_stops_in_the_first_training_and_reports_nothing(tmp_path: Path, start: Any) -> None:
    out = tmp_path / "demo"
    run = start(bgdebias("demo", "--steps", "100000", "--device", "cpu", "--no-progress",
                         "--output-dir", str(out)))  # fmt: skip
    run.wait_for_file(out / "moco-seed0" / "config.json")
    run.process.send_signal(signal.SIGTERM)
    code, stdout, stderr = run.finish()
    assert code == 143, stderr
    assert "bgdebias demo: interrupted by SIGTERM; stopped at step " in stderr
    checkpoint = latest_checkpoint(out / "moco-seed0")
    assert checkpoint is not None
    assert load_checkpoint(checkpoint)["step"] >= 1
    assert not (out / "full-seed0").exists()  # the next method never started
    assert not (out / "results.json").exists()
    assert not (out / "heatmaps").exists()
    assert "moco:" not in stdout
    assert "partial results" not in stdout


def _fake_result(conflicting: float) -> dict[str, Any]:
    probe = {"aligned": 0.9, "conflicting": conflicting, "static": 0.2, "bias_gap": 0.5}
    return {
        "biased_probe": probe,
        "independent_probe": {**probe, "contrasted": 0.1},
        "independent_retrieval_r1": 0.3,
    }


def test_an_interrupted_demo_keeps_finished_methods_marked_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """moco finished, then SIGTERM during ``full``: no ``full`` row, no results.json."""
    import bgdebias.experiments as experiments
    from bgdebias.experiments import MethodRun

    def interrupted_comparison(_methods: list[str], **options: Any) -> list[MethodRun]:
        options["on_result"](MethodRun("moco", 0, _fake_result(0.4), 1.0, "moco.pt"))  # type: ignore[arg-type]
        raise RunInterrupted(signal.SIGTERM, saved="stopped at step 98 of 300")

    monkeypatch.setattr(experiments, "run_bias_comparison", interrupted_comparison)
    out = tmp_path / "demo"
    assert main(["demo", "--steps", "300", "--output-dir", str(out), "--no-progress"]) == 143
    stdout, stderr = capsys.readouterr()
    assert "partial results (interrupted; not finished: full)" in stdout
    rows = [line.split()[0] for line in stdout.splitlines() if line.strip()]
    assert "moco" in rows
    assert "full" not in rows
    assert stderr == "bgdebias demo: interrupted by SIGTERM; stopped at step 98 of 300\n"
    assert not (out / "results.json").exists()
    partial = json.loads((out / "results-partial.json").read_text())
    assert partial["complete"] is False
    assert partial["not_finished"] == ["full"]
    assert set(partial["results"]) == {"moco"}


def test_evaluate_stops_at_once_and_writes_no_results(
    tiny_checkpoint: Path, tmp_path: Path, start: Any
) -> None:
    results = tmp_path / "stress.json"
    run = start(bgdebias("evaluate", "--checkpoint", str(tiny_checkpoint), "--device", "cpu",
                         "--output", str(results)))  # fmt: skip
    run.wait_for_line("evaluating")
    run.process.send_signal(signal.SIGTERM)
    code, stdout, stderr = run.finish()
    assert code == 143, stderr
    assert stderr.endswith("bgdebias evaluate: interrupted by SIGTERM; no results were written\n")
    assert not results.exists()
    assert "results:" not in stdout


def test_heatmap_stops_at_once(tiny_checkpoint: Path, tmp_path: Path, start: Any) -> None:
    maps = tmp_path / "maps"
    run = start(bgdebias("heatmap", "--checkpoint", str(tiny_checkpoint), "--num-videos", "64",
                         "--output-dir", str(maps)))  # fmt: skip
    run.wait_for_line("writing heat maps")
    run.process.send_signal(signal.SIGINT)
    code, stdout, stderr = run.finish()
    assert code == 130, stderr
    assert stderr.endswith(
        f"bgdebias heatmap: interrupted by SIGINT; the heat maps in {maps} are incomplete\n"
    )
    assert "heat maps:" not in stdout


def test_benchmark_stops_and_marks_its_json_incomplete(tmp_path: Path, start: Any) -> None:
    results = tmp_path / "results.json"
    methods = ["moco", "fame", "semi_negative", "merge_micro", "full", "random"]
    run = start([sys.executable, str(BENCHMARK), "--quick", "--output-dir", str(tmp_path / "runs"),
                 "--json", str(results), "--methods", *methods])  # fmt: skip
    run.wait_for_line("supervised_independent seed 0 done")
    run.process.send_signal(signal.SIGTERM)
    code, _, stderr = run.finish()
    assert code == 143, stderr
    assert "interrupted by SIGTERM" in stderr
    payload = json.loads(results.read_text())
    assert payload["complete"] is False
    assert payload["interrupted_by"] == "SIGTERM"
    done = [entry["method"] for entry in payload["runs"]]
    assert done == ["supervised_independent", *methods][: len(done)]
    assert len(done) < 1 + len(methods)  # stopped, not run to the end
    assert "table" not in payload
