"""The report of ``speed_benchmark.py``: the machine, the targets and the Markdown tables."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from typing import Any

import torch
from _speed_settings import TARGETS


def machine_info(device: torch.device) -> dict[str, Any]:
    """CPU model, cores, thread count, versions and (if used) the GPU."""
    cpu_model = platform.processor() or "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "cpu_model": cpu_model,
        "cpu_cores": os.cpu_count(),
        "cpu_cores_available": len(os.sched_getaffinity(0)),
        "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def targets_met(report: dict[str, Any]) -> dict[str, Any]:
    """Each target's measured value, limit and whether it is met."""
    recipe = report["recipe_step"]
    blocks = report["blocks_vs_r3d_18"]["fractions"]
    values = {
        "small3d_step_time_ratio": recipe["small3d"]["time_ratio_full_vs_moco"],
        "small3d_peak_memory_ratio": recipe["small3d"]["memory"]["step_increase_ratio"],
        "r3d_18_step_time_ratio": recipe["r3d_18"]["time_ratio_full_vs_moco"],
        "r3d_18_peak_memory_ratio": recipe["r3d_18"]["memory"]["step_increase_ratio"],
        "blocks_fraction_of_r3d_18_step": blocks["decoupler_and_mixer_recipe_of_fwd_bwd"],
        "motion_aware_fraction_of_r3d_18_forward": blocks["motion_aware_fwd_of_fwd"],
    }
    result = {}
    for name, (limit, comparison) in TARGETS.items():
        value = values[name]
        met = value <= limit if comparison == "<=" else value < limit
        result[name] = {"value": value, "limit": limit, "comparison": comparison, "met": met}
    return result


def format_report(report: dict[str, Any]) -> str:
    """The report as Markdown tables (every figure the docs page quotes)."""
    lines: list[str] = []
    machine = report["machine"]
    lines += [
        "## Machine",
        f"{machine['cpu_model']}, {machine['cpu_cores']} cores "
        f"({machine['cpu_cores_available']} available), {machine['memory_gib']:.0f} GiB, "
        f"torch {machine['torch']} with {machine['torch_threads']} threads, "
        f"Python {machine['python']}, device {machine['device']}",
        "load average (1 min) at start / end of each section: "
        + ", ".join(
            f"{name} {start:.2f} / {end:.2f}"
            for name, (start, end) in report["load_average"].items()
        )
        + f"; wall time {report['wall_s']:.0f} s",
        "",
    ]
    for backbone, data in report["recipe_step"].items():
        lines += _recipe_tables(backbone, data)
    lines += _blocks_tables(report["blocks_vs_r3d_18"])
    lines += _scaling_tables(report["scaling"])
    lines += ["## Targets", "", "| target | value | limit | met |", "|---|---|---|---|"]
    for name, target in report["targets"].items():
        lines.append(
            f"| {name} | {target['value']:.4g} | {target['comparison']} {target['limit']} | "
            f"{'yes' if target['met'] else 'NO'} |"
        )
    return "\n".join(lines)


def _recipe_tables(backbone: str, data: dict[str, Any]) -> list[str]:
    steps, parts, memory = data["steps"], data["parts"], data["memory"]
    moco_s = steps["moco"]["median_s"]
    lines = [
        f"## Recipe step, {backbone}, batch {tuple(data['batch'])}",
        "",
        "| method | median step | IQR | runs | per-pass medians | x moco |",
        "|---|---|---|---|---|---|",
    ]
    for method, timing in steps.items():
        passes = ", ".join(f"{value:.3f}" for value in timing["pass_medians_s"])
        lines.append(
            f"| {method} | {timing['median_s']:.3f} s | {timing['iqr_s']:.3f} s | "
            f"{timing['runs']} | {passes} | {timing['median_s'] / moco_s:.2f}x |"
        )
    per_pass = ", ".join(f"{value:.2f}" for value in data["time_ratio_per_pass"])
    lines += [
        "",
        f"time ratio full / moco: {data['time_ratio_full_vs_moco']:.2f}x (per pass: {per_pass})",
        "",
        "| part | median | runs | share of moco step |",
        "|---|---|---|---|",
    ]
    for name, timing in parts.items():
        lines.append(
            f"| {name} | {timing['median_s'] * 1000:.1f} ms | {timing['runs']} | "
            f"{timing['median_s'] / moco_s:.1%} |"
        )
    lines += ["", "| extra cost of full over moco | seconds | share of extra |", "|---|---|---|"]
    total = data["extra_cost_s"]["total"]
    for name, value in data["extra_cost_s"].items():
        lines.append(f"| {name} | {value:.3f} | {value / total:.0%} |")
    if data["method_ladder_increments_s"]:
        lines += ["", "| ablation step | added seconds |", "|---|---|"]
        for name, value in data["method_ladder_increments_s"].items():
            lines.append(f"| {name} | {value:+.3f} |")
    lines += [
        "",
        f"Peak memory ({memory['moco']['method']}):",
        "",
        "| method | before step | peak | step increase | peak above baseline |",
        "|---|---|---|---|---|",
    ]
    for method in [name for name in memory if isinstance(memory[name], dict)]:
        row = memory[method]
        lines.append(
            f"| {method} | {row['before_step_mib']:.0f} MiB | {row['peak_mib']:.0f} MiB | "
            f"{row['step_increase_mib']:.0f} MiB | {row['peak_above_baseline_mib']:.0f} MiB |"
        )
    lines += [
        "",
        f"memory ratio full / moco: step increase {memory['step_increase_ratio']:.2f}x, "
        f"peak above baseline {memory['peak_above_baseline_ratio']:.2f}x",
        "",
    ]
    if "time_ratio_one_frame_still_keys_vs_moco" in data:
        lines += [
            "still negatives from one frame each (full_one_frame_still_keys) / moco: time "
            f"{data['time_ratio_one_frame_still_keys_vs_moco']:.2f}x, step memory "
            f"{memory['one_frame_still_keys_step_increase_ratio']:.2f}x",
            "",
        ]
    return lines


def _blocks_tables(data: dict[str, Any]) -> list[str]:
    lines = [
        f"## Blocks against r3d_18, batch {tuple(data['batch'])}, "
        f"layer3 features {tuple(data['layer3_features'])}",
        "",
        "| measured | median | IQR | runs |",
        "|---|---|---|---|",
    ]
    for name, timing in {**data["backbone"], **data["blocks"]}.items():
        lines.append(
            f"| {name} | {timing['median_s'] * 1000:.1f} ms | {timing['iqr_s'] * 1000:.1f} ms | "
            f"{timing['runs']} |"
        )
    lines += ["", "| fraction | value |", "|---|---|"]
    for name, value in data["fractions"].items():
        lines.append(f"| {name} | {value:.2%} |")
    return [*lines, ""]


def _scaling_tables(data: dict[str, Any]) -> list[str]:
    lines = ["## Scaling", ""]
    for block, sweep in data.items():
        lines += [
            f"{block}, base {tuple(sweep['base'])}:",
            "",
            "| axis | sizes | median times | exponent |",
            "|---|---|---|---|",
        ]
        for axis, values in sweep["axes"].items():
            sizes = ", ".join(str(size) for size in values["sizes"])
            seconds = ", ".join(f"{value * 1000:.1f} ms" for value in values["median_s"])
            lines.append(f"| {axis} | {sizes} | {seconds} | {values['exponent']:.2f} |")
        lines.append("")
    return lines
