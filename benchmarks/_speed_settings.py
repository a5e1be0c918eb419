"""Sizes, repeat counts and targets of ``speed_benchmark.py``."""

from __future__ import annotations

from dataclasses import dataclass

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
