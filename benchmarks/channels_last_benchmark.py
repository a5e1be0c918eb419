"""Time the pretraining step with its 3D convolutions channels-last against the default layout.

``PretrainConfig.channels_last`` (on by default) stores every ``Conv3d`` weight as
``torch.channels_last_3d``. This script times the training loop's own step
(:class:`bgdebias.training.PretrainStep`: views, forward, backward, optimiser step, momentum
update) with the option off and on, for plain MoCo and the full method, in alternating passes
within one process, and prints each step's median time and the speed-up (off / on).

Cases: ``small3d`` on the bias benchmark's configuration (the synthetic defaults: 32 clips
of 8 x 64 x 64, frame differences) and ``r3d_18`` on 8 synthetic clips of 8 x 112 x 112.
The batches come from the pretraining data loader (the synthetic dataset: 12 frames per
video, from which the views take their 8), drawn once.

Run from the repository root::

    python benchmarks/channels_last_benchmark.py --json channels_last.json
    python benchmarks/channels_last_benchmark.py --quick      # tiny sizes, a smoke run
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from _pretrain_step import PretrainStep, pretrain_loader
from _speed_report import machine_info
from _speed_timing import ratio, time_variants
from torch import Tensor

from bgdebias.training import PretrainConfig
from bgdebias.training.config import Method

METHODS: tuple[Method, ...] = ("moco", "full")


@dataclass(frozen=True)
class Case:
    """One backbone's configuration: ``PretrainConfig`` keyword arguments."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


FULL_CASES = (
    Case("small3d"),
    Case("r3d_18", {"backbone": "r3d_18", "batch_size": 8, "size": 112}),
)
QUICK_CASES = (Case("small3d", {"batch_size": 4, "size": 32, "queue_size": 16}),)


def time_case(
    case: Case, device: torch.device, *, passes: int, min_run_time: float
) -> dict[str, Any]:
    """Median step times of both methods with the option off and on, and the ratios."""
    config = PretrainConfig(device=str(device), **case.options)
    batch = next(iter(pretrain_loader(config, steps=1, pin_memory=False)))
    variants: dict[str, Callable[[], object]] = {}
    for method in METHODS:
        for channels_last in (False, True):
            step = PretrainStep.build(
                PretrainConfig(device=str(device), method=method, **case.options),
                device,
                channels_last=channels_last,
            )
            layout = "channels_last" if channels_last else "default"
            variants[f"{method}/{layout}"] = functools.partial(_step_loss, step, batch)
    times = time_variants(variants, passes=passes, min_run_time=min_run_time)
    result: dict[str, Any] = {"batch": list(batch.shape), "times": times}
    for method in METHODS:
        result[f"{method}_speed_up"] = ratio(
            times[f"{method}/default"]["median_s"], times[f"{method}/channels_last"]["median_s"]
        )
    for layout in ("default", "channels_last"):
        result[f"full_vs_moco_{layout}"] = ratio(
            times[f"full/{layout}"]["median_s"], times[f"moco/{layout}"]["median_s"]
        )
    return result


def _step_loss(step: PretrainStep, batch: Tensor) -> float:
    return float(step(batch))


def format_report(report: dict[str, Any]) -> str:
    """The report as one Markdown table, with the machine."""
    machine = report["machine"]
    lines = [
        f"{machine['cpu_model']}, {machine['cpu_cores_available']} cores available, torch "
        f"{machine['torch']} with {machine['torch_threads']} threads, device "
        f"{machine['device']}; wall time {report['wall_s']:.0f} s",
        "",
        "| backbone | batch | method | default (s/step) | channels-last (s/step) | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for name, case in report["cases"].items():
        batch = " x ".join(str(size) for size in case["batch"])
        for method in METHODS:
            default = case["times"][f"{method}/default"]["median_s"]
            last = case["times"][f"{method}/channels_last"]["median_s"]
            lines.append(
                f"| {name} | {batch} | {method} | {default:.3f} | {last:.3f} | "
                f"{case[f'{method}_speed_up']:.2f}x |"
            )
    lines += [
        "",
        "| backbone | full / moco, default | full / moco, channels-last |",
        "|---|---|---|",
    ]
    for name, case in report["cases"].items():
        lines.append(
            f"| {name} | {case['full_vs_moco_default']:.2f}x | "
            f"{case['full_vs_moco_channels_last']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: cpu)")
    parser.add_argument("--passes", type=int, default=3, help="alternating passes [3]")
    parser.add_argument(
        "--min-run-time", type=float, default=5.0, help="seconds timed per call at least [5]"
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    cases = QUICK_CASES if args.quick else FULL_CASES
    passes, min_run_time = (1, 0.0) if args.quick else (args.passes, args.min_run_time)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "machine": machine_info(device),
        "settings": {"quick": args.quick, "passes": passes, "min_run_time": min_run_time},
        "cases": {
            case.name: time_case(case, device, passes=passes, min_run_time=min_run_time)
            for case in cases
        },
    }
    report["wall_s"] = time.perf_counter() - started
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
