"""Timing for ``speed_benchmark.py``: callables timed in alternating passes, and fits."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.benchmark import Timer


def time_variants(
    variants: dict[str, Callable[[], object]],
    *,
    passes: int,
    min_run_time: float,
) -> dict[str, dict[str, Any]]:
    """Time several callables in alternating order and summarise each.

    Each pass calls ``Timer.blocked_autorange`` once per callable (one untimed warm-up run,
    then timed runs until ``min_run_time`` seconds are spent); odd passes go through the
    callables in reverse order.

    Args:
        variants: Name -> callable without arguments.
        passes: Number of passes over all callables.
        min_run_time: Seconds of timed runs per call at least (a run is never cut short).

    Returns:
        Name -> ``{"median_s", "iqr_s", "runs", "pass_medians_s"}``.
    """
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    pass_medians: dict[str, list[float]] = {name: [] for name in names}
    for index in range(passes):
        for name in names if index % 2 == 0 else reversed(names):
            timer = Timer(
                stmt="function()",
                globals={"function": variants[name]},
                num_threads=torch.get_num_threads(),
                label=name,
            )
            measurement = timer.blocked_autorange(min_run_time=min_run_time)
            times[name].extend(measurement.times)
            pass_medians[name].append(measurement.median)
    return {name: summary(times[name], pass_medians[name]) for name in names}


def summary(times: Sequence[float], pass_medians: Sequence[float]) -> dict[str, Any]:
    ordered = sorted(times)
    if len(ordered) >= 4:
        quartiles = statistics.quantiles(ordered, n=4)
        iqr = quartiles[2] - quartiles[0]
    else:
        iqr = ordered[-1] - ordered[0]
    return {
        "median_s": statistics.median(ordered),
        "iqr_s": iqr,
        "runs": len(ordered),
        "pass_medians_s": list(pass_medians),
    }


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; infinite when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else math.inf


def fitted_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of ``log(seconds)`` against ``log(sizes)`` (1.0 means linear)."""
    xs = [math.log(size) for size in sizes]
    ys = [math.log(value) for value in seconds]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    variance = sum((x - mean_x) ** 2 for x in xs)
    return covariance / variance
