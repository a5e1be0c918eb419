"""Benchmark the cost of the debiasing method: step time and peak memory against plain MoCo.

Measures, in one run and on the same batches and backbones:

1. One pretraining step of the full method against plain MoCo, both built by
   ``bgdebias.training.build_recipe`` (forward, backward, optimiser step, momentum update of
   the key encoder; the augmentation is timed on its own), with small3d at
   ``(32, 3, 8, 64, 64)`` and r3d_18 at ``(8, 3, 8, 112, 112)``: time ratio (target at most
   1.5x) and peak-memory ratio (target at most 1.3x), beside the full method with its
   motionless hard negatives encoded from one frame each (``full_one_frame_still_keys``),
   and the parts of the extra cost: the key encoder on ``[k, mixed]`` and on the still
   negatives (whole clips, or one frame each) instead of B clips, the decoupler and
   mixer, the micro branch.
2. ``StaticDynamicDecoupler`` + ``SemiNegativePairMixer`` on ``(16, 3, 16, 112, 112)`` as a
   fraction of one r3d_18 forward + backward on that batch (target below 5%), and
   ``MotionAwareDecomposition`` on r3d_18's layer3 features of that batch as a fraction of
   the backbone's forward pass (target below 3%).
3. How the blocks' time grows with B, T and H*W (three sizes each, the others fixed) and
   the fitted exponent (slope of log time against log size).

Times are medians from ``torch.utils.benchmark.Timer.blocked_autorange`` (one untimed
warm-up run per call), measured in passes whose order alternates (ABBA) so that a slow
spell of a shared machine hits both sides of a ratio. Peak memory is measured in a fresh
subprocess per configuration: on a CPU, the peak resident set size during one step (after
a warm-up step, with the kernel's peak counter reset through ``/proc/self/clear_refs``
and glibc told to return every large block to the system); on CUDA,
``torch.cuda.max_memory_allocated``.

Run from the repository root::

    python benchmarks/speed_benchmark.py --json speed.json   # 5 to 9 minutes on 2 shared cores
    python benchmarks/speed_benchmark.py --quick             # smoke run, under a minute
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from _speed_blocks import bench_blocks, bench_scaling
from _speed_memory import measure_memory, memory_worker
from _speed_recipe import ONE_FRAME_STILL_KEYS, bench_recipe
from _speed_report import format_report, machine_info, targets_met
from _speed_settings import QUICK, Settings
from _speed_timing import ratio

from bgdebias.training import pick_device

__all__ = ["machine_info", "main", "run"]


def run(settings: Settings, device: torch.device) -> dict[str, Any]:
    """Run every section and return the report."""
    started = time.perf_counter()
    report: dict[str, Any] = {
        "machine": machine_info(device),
        "settings": dataclasses.asdict(settings),
        "load_average": {},
    }
    loads: dict[str, list[float]] = report["load_average"]
    recipe: dict[str, Any] = {}
    for backbone, batch, methods in (
        (
            "small3d",
            settings.small3d_batch,
            ("moco", "merge", "semi_negative", "full", ONE_FRAME_STILL_KEYS),
        ),
        ("r3d_18", settings.r3d_batch, ("moco", "full", ONE_FRAME_STILL_KEYS)),
    ):
        with _section(f"recipe_step_{backbone}", loads):
            data = bench_recipe(backbone, batch, methods, settings, device)
            memory = {
                method: measure_memory(backbone, batch, method, device)
                for method in ("moco", "full", ONE_FRAME_STILL_KEYS)
            }
        data["memory"] = {
            **memory,
            "step_increase_ratio": ratio(
                memory["full"]["step_increase_mib"], memory["moco"]["step_increase_mib"]
            ),
            "peak_above_baseline_ratio": ratio(
                memory["full"]["peak_above_baseline_mib"], memory["moco"]["peak_above_baseline_mib"]
            ),
            "one_frame_still_keys_step_increase_ratio": ratio(
                memory[ONE_FRAME_STILL_KEYS]["step_increase_mib"],
                memory["moco"]["step_increase_mib"],
            ),
        }
        recipe[backbone] = data
    report["recipe_step"] = recipe
    with _section("blocks_vs_r3d_18", loads):
        report["blocks_vs_r3d_18"] = bench_blocks(settings.blocks_batch, settings, device)
    with _section("scaling", loads):
        report["scaling"] = bench_scaling(settings, device)
    report["targets"] = targets_met(report)
    report["wall_s"] = time.perf_counter() - started
    return report


@contextlib.contextmanager
def _section(name: str, loads: dict[str, list[float]]) -> Iterator[None]:
    """Announce a section on stderr and record the 1-minute load average around it."""
    print(f"{name} ...", file=sys.stderr, flush=True)
    start = os.getloadavg()[0]
    yield
    loads[name] = [start, os.getloadavg()[0]]


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one pass: smoke run")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument(
        "--device", default="auto", help="'auto' (CUDA if available, else CPU), 'cpu', 'cuda'"
    )
    parser.add_argument("--memory-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.memory_worker is not None:
        print(json.dumps(memory_worker(json.loads(args.memory_worker))))
        return
    device = pick_device(args.device)
    report = run(QUICK if args.quick else Settings(), device)
    report["command"] = " ".join(["python", "benchmarks/speed_benchmark.py", *sys.argv[1:]])
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
