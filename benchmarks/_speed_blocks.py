"""The blocks of ``speed_benchmark.py``: their cost against r3d_18, and their scaling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from _speed_recipe import autocast
from _speed_settings import Settings, Shape
from _speed_timing import fitted_exponent, time_variants

from bgdebias.blocks import MotionAwareDecomposition, SemiNegativePairMixer
from bgdebias.models import video_backbone
from bgdebias.training import build_mixer


def bench_blocks(batch: Shape, settings: Settings, device: torch.device) -> dict[str, Any]:
    """The blocks on one batch against r3d_18's forward and forward + backward on it."""
    torch.manual_seed(0)
    backbone = video_backbone("r3d_18").to(device).train()
    clips = torch.rand(batch, generator=torch.Generator().manual_seed(3)).to(device)
    generator = torch.Generator().manual_seed(4)

    def forward_backward() -> None:
        with autocast(device):
            loss = backbone(clips).pooled.float().square().mean()
        backbone.zero_grad(set_to_none=True)
        loss.backward()

    def forward() -> object:
        with autocast(device):
            return backbone(clips)

    backbone_times = time_variants(
        {"r3d_18_fwd_bwd": forward_backward, "r3d_18_fwd": forward},
        passes=1,
        min_run_time=settings.backbone_min_run_time,
    )
    with torch.no_grad(), autocast(device):
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
