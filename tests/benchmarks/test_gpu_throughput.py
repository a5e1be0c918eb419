"""``benchmarks/gpu_throughput.py``: the ``--quick`` CPU run end to end, its helpers by hand.

No timing is asserted (figures depend on the machine and its load): only the report's
structure, that every configuration ran, and that the ratios are finite.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from benchmark_scripts import load_benchmark, run_quick

gpu = load_benchmark("gpu_throughput")
step_module = sys.modules["_pretrain_step"]  # imported by gpu_throughput


def _run_quick(tmp_path: Path, *options: str) -> tuple[dict[str, Any], str]:
    return run_quick("gpu_throughput", tmp_path / "report.json", *options)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """One ``--quick`` run (eager mode, both sources, the three methods)."""
    return _run_quick(tmp_path_factory.mktemp("gpu_throughput"))


def _finite_positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_quick_run_measures_every_configuration(
    quick_report: tuple[dict[str, Any], str],
) -> None:
    report, _ = quick_report
    assert report["machine"]["cpu_model"]
    assert report["machine"]["device"] == "cpu"
    assert report["settings"]["batch_size"] == 4
    assert report["settings"]["backbones"] == ["small3d"]
    assert report["corpus"]["videos"] == 4
    assert report["corpus"]["mean_kbps"] > 0
    assert report["workers"] == 1
    rows = report["results"]
    keys = {(row["source"], row["method"], row["compile"]) for row in rows}
    assert keys == {(s, m, False) for s in ("memory", "video") for m in ("moco", "full", "fame")}
    for row in rows:
        assert row["status"] == "ok", row
        assert _finite_positive(row["median_step_s"])
        assert _finite_positive(row["clips_per_s"])
        assert _finite_positive(row["wall_clips_per_s"])
        assert 0 <= row["wait_share"] <= 1
        assert row["peak_memory_mib"] is None  # no CUDA memory counter on a CPU
        assert len(row["step_s"]) == 2
        assert len(row["warmup_s"]) == 1


@pytest.mark.slow
def test_quick_run_ratios_are_finite(quick_report: tuple[dict[str, Any], str]) -> None:
    report, stdout = quick_report
    assert report["target_ratio"] == 1.3
    assert {entry["source"] for entry in report["ratios"]} == {"memory", "video"}
    for entry in report["ratios"]:
        for pair in ("full_vs_moco", "fame_vs_moco"):
            assert _finite_positive(entry[pair]["time"])
            assert _finite_positive(entry[pair]["wall_time"])
            assert entry[pair]["memory"] is None
        assert isinstance(entry["target_met"], bool)
    assert "## Configurations" in stdout
    assert "## Ratios against plain MoCo" in stdout
    assert report["command"].startswith("python benchmarks/gpu_throughput.py --quick")


@pytest.mark.slow
def test_quick_run_with_compile(tmp_path: Path) -> None:
    report, _ = _run_quick(
        tmp_path, "--compile", "on", "--methods", "moco", "full", "--sources", "memory"
    )
    rows = report["results"]
    assert [(row["method"], row["compile"], row["status"]) for row in rows] == [
        ("moco", True, "ok"),
        ("full", True, "ok"),
    ]
    assert _finite_positive(report["ratios"][0]["full_vs_moco"]["time"])
    assert report["ratios"][0]["fame_vs_moco"] is None


def test_without_a_gpu_the_full_run_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("gpu_throughput.py: no CUDA device found")
    assert "--quick" in captured.err


def _row(method: str, step_s: float, memory: float | None, **extra: Any) -> dict[str, Any]:
    return {
        "source": "memory",
        "backbone": "r3d_18",
        "compile": False,
        "method": method,
        "status": "ok",
        "median_step_s": step_s,
        "wall_clips_per_s": 64 / step_s,
        "peak_memory_mib": memory,
        **extra,
    }


def test_ratios_divide_by_plain_moco_and_judge_the_target() -> None:
    rows = [_row("moco", 0.2, 1000.0), _row("full", 0.25, 1200.0), _row("fame", 0.3, 900.0)]
    (entry,) = gpu.ratios(rows)
    assert entry["full_vs_moco"] == {"time": 1.25, "wall_time": 1.25, "memory": 1.2}
    assert entry["fame_vs_moco"] == {"time": 1.5, "wall_time": 1.5, "memory": 0.9}
    assert entry["target_met"] is True
    over = gpu.ratios([_row("moco", 0.2, 1000.0), _row("full", 0.25, 1400.0)])
    assert over[0]["target_met"] is False  # time met, memory 1.4x missed


def test_ratios_without_moco_memory_or_a_method() -> None:
    failed = {**_row("moco", 0.2, 1000.0), "status": "error"}
    (entry,) = gpu.ratios([failed, _row("full", 0.25, 1200.0)])
    assert entry["full_vs_moco"] is None
    assert entry["target_met"] is None
    (cpu,) = gpu.ratios([_row("moco", 0.2, None), _row("full", 0.3, None)])
    assert cpu["full_vs_moco"]["memory"] is None
    assert cpu["target_met"] is False  # judged on time alone: 1.5x
    assert cpu["fame_vs_moco"] is None


def test_report_lists_errors_and_skipped_configurations() -> None:
    report: dict[str, Any] = {
        "machine": {
            "cpu_model": "cpu",
            "cpu_cores_available": 2,
            "torch": "2",
            "python": "3",
            "device": "cuda",
            "gpu": "Some GPU",
        },
        "settings": {
            "batch_size": 64,
            "num_frames": 16,
            "size": 112,
            "channels_last": True,
            "compile_backend": "inductor",
            "warmup_steps": 3,
            "timed_steps": 10,
        },
        "corpus": None,
        "workers": 15,
        "wall_s": 100.0,
        "notes": ["a note"],
        "results": [
            {
                **_row("moco", 0.1, 2048.0),
                "clips_per_s": 640.0,
                "wait_share": 0.0,
                "warmup_s": [12.0],
            },
            {**_row("moco", 0.1, None), "source": "video", "status": "error", "error": "E: a|b"},
            {**_row("full", 0.1, None), "status": "skipped", "reason": "time budget"},
        ],
        "ratios": [],
    }
    text = gpu.format_report(report)
    assert "GPU Some GPU" in text
    assert "Note: a note" in text
    assert "| memory | r3d_18 | off | moco | 100.0 ms | 640.0 | 640.0 | 0% | 2.00 GiB |" in text
    assert "error: E: a/b |" in text
    assert "skipped: time budget |" in text


def test_workers_are_lowered_to_fit_shared_memory() -> None:
    gib = 2**30
    assert gpu.fit_workers_to_shared_memory(15, gib, None) == (15, None)
    assert gpu.fit_workers_to_shared_memory(4, gib, 12 * gib) == (4, None)
    workers, note = gpu.fit_workers_to_shared_memory(15, gib, 7 * gib)
    assert workers == 2
    assert note is not None
    assert "15" in note
    assert gpu.fit_workers_to_shared_memory(15, gib, gib // 2)[0] == 1


def test_options_select_configurations_and_order() -> None:
    args = gpu._parse(["--backbones", "r3d_18", "--compile", "both", "--methods", "moco", "full"])
    settings = gpu.settings_from(args)
    assert settings.batch_size == 64
    assert settings.sources == ("memory", "video")
    units = [(unit.compiled, unit.method) for unit in gpu.units_of(settings)]
    assert units == [(False, "moco"), (False, "full"), (True, "moco"), (True, "full")]
    quick = gpu.settings_from(gpu._parse(["--quick", "--workers", "0", "--timed-steps", "5"]))
    assert (quick.backbones, quick.num_workers, quick.timed_steps) == (("small3d",), 0, 5)
    assert quick.compile_modes == (False,)


def test_describe_error_keeps_the_first_line() -> None:
    error = RuntimeError("CUDA out of memory.\nTried to allocate 2 GiB")
    assert gpu.describe_error(error) == "RuntimeError: CUDA out of memory."


def test_pretrain_step_trains_in_channels_last() -> None:
    config = gpu.config_of(gpu.QUICK, gpu.Unit("small3d", False, "full"), Path("."), 0)
    step = step_module.PretrainStep.build(config, torch.device("cpu"), channels_last=True)
    convs = [m for m in step.recipe.modules() if isinstance(m, torch.nn.Conv3d)]
    assert len(convs) == 8  # four in each encoder
    assert all(c.weight.is_contiguous(memory_format=torch.channels_last_3d) for c in convs)
    batch = step_module.in_memory_batch(config, pin_memory=False)
    assert tuple(batch.shape) == (4, 3, 8, 37, 37)  # 2T frames, 8/7 of the crop
    before = [p.detach().clone() for p in step.recipe.key_encoder.parameters()]
    loss = step(batch)
    assert loss.shape == ()
    assert torch.isfinite(loss)
    after = list(step.recipe.key_encoder.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))  # EMA moved
    assert step.steps_done == 1
    assert int(step.recipe.queue.pointer) == 4  # this step's keys were queued
