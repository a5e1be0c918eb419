"""Names of choices that torch-free code (the configuration, the command line) shares with
the blocks and the dataset registry, defined once here so that importing them loads no torch.
"""

from __future__ import annotations

from typing import Literal, get_args

#: How :class:`~bgdebias.blocks.StaticDynamicDecoupler` thresholds its motion energy.
ThresholdMode = Literal["fraction", "otsu", "fame", "noise"]
#: One decoupler mask per clip or one per frame.
MaskMode = Literal["clip", "frame"]
#: The video datasets that :func:`~bgdebias.data.datasets.registry.build_video_dataset` builds.
VideoDatasetName = Literal["ucf101", "hmdb51", "kinetics", "ssv2", "diving48", "folder"]

THRESHOLD_MODES: tuple[str, ...] = get_args(ThresholdMode)
MASK_MODES: tuple[str, ...] = get_args(MaskMode)
VIDEO_DATASETS: tuple[VideoDatasetName, ...] = get_args(VideoDatasetName)
