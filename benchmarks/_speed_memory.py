"""Peak memory of one step for ``speed_benchmark.py``, measured in a fresh subprocess."""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch
from _speed_recipe import build_training
from _speed_settings import Shape

_MIB = 2.0**20


def measure_memory(
    backbone: str, batch: Shape, method: str, device: torch.device
) -> dict[str, Any]:
    """Peak memory of one step, measured in a fresh Python process.

    The child builds the recipe, runs one warm-up step, resets the peak counter and runs
    one more step. glibc is told to serve blocks over 128 KiB by ``mmap`` (and so to return
    them on ``free``), so the resident set follows the live tensors.
    """
    spec = {"backbone": backbone, "batch": list(batch), "method": method, "device": str(device)}
    environment = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    completed = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve().with_name("speed_benchmark.py")),
            "--threads",
            str(torch.get_num_threads()),
            "--memory-worker",
            json.dumps(spec),
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"memory worker {spec} failed:\n{completed.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def memory_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Body of the child process of :func:`measure_memory`.

    Where the kernel's peak counter cannot be reset, the first step is measured instead
    (no warm-up), as the rise of ``ru_maxrss`` above its value before the step.
    """
    device = torch.device(spec["device"])
    batch: Shape = tuple(spec["batch"])
    baseline = _current_rss()
    setup = build_training(spec["method"], spec["backbone"], batch, device)
    setup.videos = torch.empty(0)  # not needed for the step
    resettable = device.type == "cuda" or _reset_peak_rss()
    if resettable:
        setup.step()  # warm-up: optimiser state, lazy initialisation
    gc.collect()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        setup.step()
        torch.cuda.synchronize(device)
        peak = torch.cuda.max_memory_allocated(device)
        return _memory_result("torch.cuda.max_memory_allocated", 0, before, peak, True)
    if resettable:
        _reset_peak_rss()
        before = _current_rss()
        setup.step()
        peak = _status_kib("VmHWM") * 1024
        return _memory_result(
            "VmHWM, reset via /proc/self/clear_refs", baseline, before, peak, True
        )
    before = _peak_rss()
    setup.step()
    return _memory_result(
        "ru_maxrss rise over the first step", baseline, before, _peak_rss(), False
    )


def _memory_result(
    method: str, baseline: int, before: int, peak: int, reset: bool
) -> dict[str, Any]:
    return {
        "method": method,
        "peak_reset": reset,
        "baseline_mib": baseline / _MIB,
        "before_step_mib": before / _MIB,
        "peak_mib": peak / _MIB,
        "step_increase_mib": (peak - before) / _MIB,
        "peak_above_baseline_mib": (peak - baseline) / _MIB,
    }


def _current_rss() -> int:
    return _status_kib("VmRSS") * 1024


def _status_kib(field: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``: resident now, ``VmHWM``: peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} field")


def _peak_rss() -> int:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return int(kib) * 1024


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (Linux >= 4.0); ``False`` where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True
