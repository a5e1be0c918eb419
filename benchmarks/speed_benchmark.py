"""Benchmark the cost of the debiasing method: step time and peak memory against plain MoCo.

Measures, in one run and on the same batches and backbones:

1. One pretraining step of the full method against plain MoCo, both built by
   ``bgdebias.training.build_recipe`` (forward, backward, optimiser step, momentum update of
   the key encoder; the augmentation is timed on its own), with small3d at
   ``(32, 3, 8, 64, 64)`` and r3d_18 at ``(8, 3, 8, 112, 112)``: time ratio (target at most
   1.5x) and peak-memory ratio (target at most 1.3x), and the parts of the extra cost: the
   key encoder on 3B clips instead of B, the decoupler and mixer, the micro branch.
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
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.benchmark import Timer

from bgdebias.blocks import MotionAwareDecomposition, SemiNegativePairMixer
from bgdebias.models import video_backbone
from bgdebias.training import DebiasedMoCo, PretrainConfig, build_recipe
from bgdebias.training.loop import build_optimizer
from bgdebias.training.recipe import build_mixer
from bgdebias.training.views import ClipViewAugmentation

Shape = tuple[int, int, int, int, int]

#: Targets of the project's "evidence" issue: (key in the report, limit, comparison).
TARGETS: dict[str, tuple[float, str]] = {
    "small3d_step_time_ratio": (1.5, "<="),
    "small3d_peak_memory_ratio": (1.3, "<="),
    "r3d_18_step_time_ratio": (1.5, "<="),
    "r3d_18_peak_memory_ratio": (1.3, "<="),
    "blocks_fraction_of_r3d_18_step": (0.05, "<"),
    "motion_aware_fraction_of_r3d_18_forward": (0.03, "<"),
}

#: Key-encoder momentum used in the timed steps (its value does not change the cost).
KEY_MOMENTUM = 0.99
_MIB = 2.0**20


@dataclass(frozen=True)
class Settings:
    """Sizes and repeat counts of one run.

    Attributes:
        small3d_batch: Clip batch of the small3d recipe step.
        r3d_batch: Clip batch of the r3d_18 recipe step.
        blocks_batch: Clip batch of the blocks-against-r3d_18 comparison.
        scaling_base: Clip batch around which the mixer's scaling is measured.
        scaling_batch: Batch sizes of the scaling sweep.
        scaling_frames: Frame counts of the scaling sweep.
        scaling_sides: Frame sides (H = W) of the scaling sweep.
        feature_base: Feature map ``(B, C, T, H, W)`` for the decomposition's scaling.
        feature_batch: Batch sizes of the decomposition's sweep.
        feature_frames: Temporal sizes of the decomposition's sweep.
        feature_sides: Spatial sides of the decomposition's sweep.
        step_passes: Passes over the recipe steps (order reversed on odd passes).
        part_passes: Passes over the parts (blocks, key encoder, augmentation).
        min_run_time: Seconds each ``blocked_autorange`` call measures at least.
        backbone_min_run_time: The same for the r3d_18 forward(+backward) on the big batch.
    """

    small3d_batch: Shape = (32, 3, 8, 64, 64)
    r3d_batch: Shape = (8, 3, 8, 112, 112)
    blocks_batch: Shape = (16, 3, 16, 112, 112)
    scaling_base: Shape = (8, 3, 16, 112, 112)
    scaling_batch: tuple[int, ...] = (4, 8, 16)
    scaling_frames: tuple[int, ...] = (8, 16, 32)
    scaling_sides: tuple[int, ...] = (56, 80, 112)
    feature_base: Shape = (8, 256, 4, 14, 14)
    feature_batch: tuple[int, ...] = (4, 8, 16)
    feature_frames: tuple[int, ...] = (2, 4, 8)
    feature_sides: tuple[int, ...] = (7, 14, 28)
    step_passes: int = 2
    part_passes: int = 2
    min_run_time: float = 1.0
    backbone_min_run_time: float = 40.0


QUICK = Settings(
    small3d_batch=(4, 3, 8, 32, 32),
    r3d_batch=(2, 3, 8, 32, 32),
    blocks_batch=(2, 3, 8, 32, 32),
    scaling_base=(2, 3, 8, 32, 32),
    scaling_batch=(2, 3, 4),
    scaling_frames=(4, 8, 12),
    scaling_sides=(16, 24, 32),
    feature_base=(2, 16, 2, 4, 4),
    feature_batch=(2, 3, 4),
    feature_frames=(2, 3, 4),
    feature_sides=(2, 4, 6),
    step_passes=1,
    part_passes=1,
    min_run_time=0.01,
    backbone_min_run_time=0.01,
)


# --------------------------------------------------------------------------- timing


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
    return {name: _summary(times[name], pass_medians[name]) for name in names}


def _summary(times: Sequence[float], pass_medians: Sequence[float]) -> dict[str, Any]:
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


def _ratio(numerator: float, denominator: float) -> float:
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


# --------------------------------------------------------------------------- the recipe step


@dataclass
class TrainingSetup:
    """A recipe with its optimiser and one batch of views, ready to step.

    Attributes:
        recipe: The MoCo recipe (plain or debiased).
        optimizer: The query encoder's optimiser, as the training loop builds it.
        videos: The raw video batch the views were cut from. Shape: ``(B, 3, 2T, S', S')``.
        query_view: Shape: ``(B, 3, T, S, S)``.
        key_view: Shape: ``(B, 3, T, S, S)``.
        augmentation: The view augmentation of the training loop.
        generator: Random source of the mixer and the augmentation.
    """

    recipe: DebiasedMoCo
    optimizer: torch.optim.Optimizer
    videos: Tensor
    query_view: Tensor
    key_view: Tensor
    augmentation: ClipViewAugmentation
    generator: torch.Generator

    def step(self) -> None:
        """One training step: forward, backward, optimiser step, momentum update."""
        with _autocast(self.query_view.device):
            out = self.recipe(self.query_view, self.key_view, generator=self.generator)
        self.optimizer.zero_grad(set_to_none=True)
        out.total.backward()
        self.optimizer.step()
        self.recipe.update_key_encoder(KEY_MOMENTUM)

    def augment(self) -> tuple[Tensor, ...]:
        """Cut the two views from the video batch (the loop's augmentation)."""
        views: tuple[Tensor, ...] = self.augmentation(self.videos, self.generator)
        return views


def recipe_config(method: str, backbone: str, batch: Shape) -> PretrainConfig:
    """The resolved configuration of a method: synthetic defaults for small3d, the real-data
    defaults (queue 16384, SGD) for the torchvision backbones."""
    _, _, frames, size, _ = batch
    real_data = {} if backbone == "small3d" else {"queue_size": 16384, "optimizer": "sgd"}
    return PretrainConfig(
        method=method,  # type: ignore[arg-type]
        backbone=backbone,
        num_frames=frames,
        size=size,
        batch_size=batch[0],
        **real_data,  # type: ignore[arg-type]
    ).resolved()


def build_training(method: str, backbone: str, batch: Shape, device: torch.device) -> TrainingSetup:
    """Build a recipe, its optimiser and a batch of views (same seed for every method)."""
    config = recipe_config(method, backbone, batch)
    torch.manual_seed(0)
    recipe = build_recipe(config).to(device).train()
    optimizer = build_optimizer(config, recipe.query_encoder)
    size, frames = batch[3], batch[2]
    side = round(size * 8 / 7)  # the real-data pretraining datasets' square crop
    data = torch.Generator().manual_seed(1)
    videos = torch.rand(batch[0], batch[1], 2 * frames, side, side, generator=data).to(device)
    augmentation = ClipViewAugmentation(num_frames=frames, size=size)
    generator = torch.Generator().manual_seed(2)
    query_view, key_view = augmentation(videos, generator)
    return TrainingSetup(recipe, optimizer, videos, query_view, key_view, augmentation, generator)


def bench_recipe(
    backbone: str,
    batch: Shape,
    methods: Sequence[str],
    settings: Settings,
    device: torch.device,
) -> dict[str, Any]:
    """Time the step of each method and the parts of the full method's extra cost."""
    setups = {method: build_training(method, backbone, batch, device) for method in methods}
    steps = time_variants(
        {method: setup.step for method, setup in setups.items()},
        passes=settings.step_passes,
        min_run_time=settings.min_run_time,
    )
    moco, full = setups["moco"], setups["full"]
    parts = time_variants(
        _extra_cost_parts(moco, full),
        passes=settings.part_passes,
        min_run_time=settings.min_run_time,
    )
    moco_s, full_s = steps["moco"]["median_s"], steps["full"]["median_s"]
    extra_keys = parts["key_encoder_3B"]["median_s"] - parts["key_encoder_B"]["median_s"]
    mixer = parts["mixer_and_key_batch"]["median_s"]
    micro = parts["micro_query_fwd_bwd"]["median_s"] + parts["micro_key_fwd_3B"]["median_s"]
    extra = full_s - moco_s
    result: dict[str, Any] = {
        "backbone": backbone,
        "batch": list(batch),
        "steps": steps,
        "time_ratio_full_vs_moco": full_s / moco_s,
        "time_ratio_per_pass": [
            f / m
            for f, m in zip(
                steps["full"]["pass_medians_s"], steps["moco"]["pass_medians_s"], strict=True
            )
        ],
        "parts": parts,
        "extra_cost_s": {
            "total": extra,
            "extra_key_encoder_passes": extra_keys,
            "decoupler_mixer_key_batch": mixer,
            "micro_branch": micro,
            "unattributed": extra - extra_keys - mixer - micro,
        },
    }
    previous = "moco"
    ladder: dict[str, float] = {}
    for method in methods:
        if method != "moco":
            ladder[f"{previous}->{method}"] = (
                steps[method]["median_s"] - steps[previous]["median_s"]
            )
            previous = method
    result["method_ladder_increments_s"] = ladder
    return result


def _extra_cost_parts(moco: TrainingSetup, full: TrainingSetup) -> dict[str, Callable[[], object]]:
    """Callables for the parts of the full method's step that plain MoCo does not run."""
    mixer = full.recipe.mixer
    if mixer is None:
        raise ValueError("the full method's recipe has no mixer")
    query, key, generator = full.query_view, full.key_view, full.generator
    device = query.device

    def key_batch() -> Tensor:
        mixed = mixer(query, generator=generator)
        return torch.cat([key, mixed.mixed, mixed.background.contiguous()])

    def decoupler() -> object:
        return mixer.decoupler(query, generator=generator)

    keys_3b = key_batch()
    encoder, key_encoder = full.recipe.query_encoder, full.recipe.key_encoder
    decomposition, micro_head = encoder.decomposition, encoder.micro_head
    key_decomposition, key_micro_head = key_encoder.decomposition, key_encoder.micro_head
    if None in (decomposition, micro_head, key_decomposition, key_micro_head):
        raise ValueError("the full method's encoder has no micro branch")
    with torch.no_grad(), _autocast(device):
        query_features = encoder.backbone(query).features.detach().float()
        key_features = key_encoder.backbone(keys_3b).features.float()
    query_features.requires_grad_(True)

    def micro_query() -> None:
        with _autocast(device):
            micro = micro_head(decomposition(query_features).dynamic)  # type: ignore[misc]
        micro.float().sum().backward()

    @torch.no_grad()
    def micro_key() -> object:
        with _autocast(device):
            return key_micro_head(key_decomposition(key_features).dynamic)  # type: ignore[misc]

    @torch.no_grad()
    def moco_keys(clips: Tensor) -> object:
        with _autocast(device):
            return moco.recipe.key_encoder(clips)

    return {
        "augmentation_two_views": full.augment,
        "decoupler": decoupler,
        "mixer_and_key_batch": key_batch,
        "key_encoder_B": lambda: moco_keys(key),
        "key_encoder_3B": lambda: moco_keys(keys_3b),
        "micro_query_fwd_bwd": micro_query,
        "micro_key_fwd_3B": micro_key,
    }


# --------------------------------------------------------------------------- peak memory


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
            str(Path(__file__).resolve()),
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


# --------------------------------------------------------------------------- the blocks


def bench_blocks(batch: Shape, settings: Settings, device: torch.device) -> dict[str, Any]:
    """The blocks on one batch against r3d_18's forward and forward + backward on it."""
    torch.manual_seed(0)
    backbone = video_backbone("r3d_18").to(device).train()
    clips = torch.rand(batch, generator=torch.Generator().manual_seed(3)).to(device)
    generator = torch.Generator().manual_seed(4)

    def forward_backward() -> None:
        with _autocast(device):
            loss = backbone(clips).pooled.float().square().mean()
        backbone.zero_grad(set_to_none=True)
        loss.backward()

    def forward() -> object:
        with _autocast(device):
            return backbone(clips)

    backbone_times = time_variants(
        {"r3d_18_fwd_bwd": forward_backward, "r3d_18_fwd": forward},
        passes=1,
        min_run_time=settings.backbone_min_run_time,
    )
    with torch.no_grad(), _autocast(device):
        features = backbone(clips).features.float()
    recipe_mixer = build_mixer(mask_mode="frame", threshold="otsu", beta=0.5, mix_prob=1.0)
    default_mixer = SemiNegativePairMixer()
    decomposition = MotionAwareDecomposition(check_finite=False)
    checked_decomposition = MotionAwareDecomposition()
    trainable = features.clone().requires_grad_(True)

    def decomposition_fwd_bwd() -> None:
        decomposition(trainable).dynamic.sum().backward()

    blocks = time_variants(
        {
            "decoupler_recipe": lambda: recipe_mixer.decoupler(clips, generator=generator),
            "decoupler_and_mixer_recipe": lambda: recipe_mixer(clips, generator=generator),
            "decoupler_and_mixer_defaults": lambda: default_mixer(clips, generator=generator),
            "motion_aware_fwd": lambda: decomposition(trainable),
            "motion_aware_fwd_checked": lambda: checked_decomposition(trainable),
            "motion_aware_fwd_bwd": decomposition_fwd_bwd,
        },
        passes=settings.part_passes,
        min_run_time=settings.min_run_time,
    )
    step_s = backbone_times["r3d_18_fwd_bwd"]["median_s"]
    forward_s = backbone_times["r3d_18_fwd"]["median_s"]
    return {
        "batch": list(batch),
        "layer3_features": list(features.shape),
        "backbone": backbone_times,
        "blocks": blocks,
        "fractions": {
            "decoupler_and_mixer_recipe_of_fwd_bwd": blocks["decoupler_and_mixer_recipe"][
                "median_s"
            ]
            / step_s,
            "decoupler_and_mixer_defaults_of_fwd_bwd": blocks["decoupler_and_mixer_defaults"][
                "median_s"
            ]
            / step_s,
            "motion_aware_fwd_of_fwd": blocks["motion_aware_fwd"]["median_s"] / forward_s,
            "motion_aware_fwd_checked_of_fwd": blocks["motion_aware_fwd_checked"]["median_s"]
            / forward_s,
            "motion_aware_fwd_bwd_of_fwd_bwd": blocks["motion_aware_fwd_bwd"]["median_s"] / step_s,
        },
    }


def bench_scaling(settings: Settings, device: torch.device) -> dict[str, Any]:
    """Time of the blocks against B, T and H*W, one axis at a time."""
    mixer = build_mixer(mask_mode="frame", threshold="otsu", beta=0.5, mix_prob=1.0)
    decomposition = MotionAwareDecomposition(check_finite=False)
    generator = torch.Generator().manual_seed(5)

    def run_mixer(shape: Shape) -> Callable[[], object]:
        clips = torch.rand(shape, generator=torch.Generator().manual_seed(6)).to(device)
        return lambda: mixer(clips, generator=generator)

    def run_decomposition(shape: Shape) -> Callable[[], object]:
        features = torch.randn(shape, generator=torch.Generator().manual_seed(7)).to(device)
        return lambda: decomposition(features)

    sweeps = {
        "decoupler_and_mixer": (
            run_mixer,
            settings.scaling_base,
            settings.scaling_batch,
            settings.scaling_frames,
            settings.scaling_sides,
        ),
        "motion_aware": (
            run_decomposition,
            settings.feature_base,
            settings.feature_batch,
            settings.feature_frames,
            settings.feature_sides,
        ),
    }
    report: dict[str, Any] = {}
    for block, (factory, base, batches, frames, sides) in sweeps.items():
        shapes = {
            "B": [_with(base, batch=value) for value in batches],
            "T": [_with(base, frames=value) for value in frames],
            "HW": [_with(base, side=value) for value in sides],
        }
        unique = {shape: factory(shape) for axis in shapes.values() for shape in axis}
        timed = time_variants(
            {_shape_name(shape): run for shape, run in unique.items()},
            passes=settings.part_passes,
            min_run_time=settings.min_run_time,
        )
        axes: dict[str, Any] = {}
        for axis, axis_shapes in shapes.items():
            sizes = [_axis_size(shape, axis) for shape in axis_shapes]
            seconds = [timed[_shape_name(shape)]["median_s"] for shape in axis_shapes]
            axes[axis] = {
                "shapes": [list(shape) for shape in axis_shapes],
                "sizes": sizes,
                "median_s": seconds,
                "exponent": fitted_exponent(sizes, seconds),
            }
        report[block] = {"base": list(base), "axes": axes}
    return report


def _with(base: Shape, *, batch: int = 0, frames: int = 0, side: int = 0) -> Shape:
    b, c, t, h, w = base
    if side:
        h = w = side
    return (batch or b, c, frames or t, h, w)


def _axis_size(shape: Shape, axis: str) -> int:
    if axis == "B":
        return shape[0]
    if axis == "T":
        return shape[2]
    return shape[3] * shape[4]


def _shape_name(shape: Shape) -> str:
    return "x".join(str(size) for size in shape)


# --------------------------------------------------------------------------- the report


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
    for method in ("moco", "full"):
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


# --------------------------------------------------------------------------- main


@contextlib.contextmanager
def _autocast(device: torch.device) -> Iterator[None]:
    """bfloat16 autocast on CUDA, as the training loop uses by default; nothing on a CPU."""
    if device.type == "cuda":
        with torch.autocast("cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


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
        ("small3d", settings.small3d_batch, ("moco", "merge", "semi_negative", "full")),
        ("r3d_18", settings.r3d_batch, ("moco", "full")),
    ):
        with _section(f"recipe_step_{backbone}", loads):
            data = bench_recipe(backbone, batch, methods, settings, device)
            memory = {
                method: measure_memory(backbone, batch, method, device)
                for method in ("moco", "full")
            }
        data["memory"] = {
            "moco": memory["moco"],
            "full": memory["full"],
            "step_increase_ratio": _ratio(
                memory["full"]["step_increase_mib"], memory["moco"]["step_increase_mib"]
            ),
            "peak_above_baseline_ratio": _ratio(
                memory["full"]["peak_above_baseline_mib"], memory["moco"]["peak_above_baseline_mib"]
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
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    report = run(QUICK if args.quick else Settings(), device)
    report["command"] = " ".join(["python", "benchmarks/speed_benchmark.py", *sys.argv[1:]])
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
