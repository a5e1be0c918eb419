"""The pretraining dataset of a configuration, and batching of its samples."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from bgdebias.data.datasets import VideoSample
from bgdebias.data.datasets.registry import build_video_dataset
from bgdebias.data.functional import resize_side_for_crop
from bgdebias.data.sampling import RandomClipSampler
from bgdebias.data.synthetic import MovingSpriteDataset, MovingSpriteSample
from bgdebias.data.transforms import CenterCropClip, ClipCompose, ResizeShortSideClip, ToFloatClip
from bgdebias.training.config import ResolvedPretrainConfig

#: Frames per synthetic training video; each view takes a random window of ``num_frames``.
SYNTHETIC_VIDEO_FRAMES = 12


def build_pretrain_dataset(config: ResolvedPretrainConfig) -> Dataset[Any]:
    """Videos for pretraining: items whose ``clip`` is a float video ``(C, T, H, W)``.

    The synthetic dataset yields whole 12-frame videos, deterministic by index, so two
    views, their crops and every random draw come from the training generator and a
    resumed run sees exactly what an uninterrupted one would. Real video datasets draw
    their clip windows in the loader (global generator), so a resumed run sees the same
    videos in the same order but may take other windows from them. Unreadable videos are
    skipped (logged as warnings, another video takes their place) so that one corrupt file
    does not end a long run.

    Args:
        config: A resolved configuration (:meth:`PretrainConfig.resolved`).

    Returns:
        The dataset.

    Example:
        >>> from bgdebias.training import PretrainConfig, build_pretrain_dataset
        >>> dataset = build_pretrain_dataset(PretrainConfig(synthetic_videos=4).resolved())
        >>> len(dataset), tuple(dataset[0].clip.shape)  # 12-frame 64 x 64 videos
        (4, (3, 12, 64, 64))
    """
    size = config.size
    if config.dataset == "synthetic":
        return MovingSpriteDataset(
            split="train",
            length=config.synthetic_videos,
            num_frames=SYNTHETIC_VIDEO_FRAMES,
            size=size,
            bias=config.synthetic_bias,
            seed=config.seed,
            backgrounds=config.synthetic_backgrounds,
            actor=config.synthetic_actor,
        )
    # Real videos: one window of twice the clip length per video (every `frame_stride`-th
    # frame), resized and centre-cropped to a square 8/7 of the crop size; the two views
    # then take their own windows and random crops inside it.
    frames = 2 * config.num_frames
    side = resize_side_for_crop(size)
    transform = ClipCompose(
        [ToFloatClip(layout="CTHW"), ResizeShortSideClip(side), CenterCropClip(side)]
    )
    return build_video_dataset(
        config.dataset,
        config.dataset_root,
        split="train",
        clip_sampler=RandomClipSampler(frames, stride=config.frame_stride),
        annotations=config.annotations,
        fold=config.fold,
        transform=transform,
        clip_dtype="uint8",
        on_error="skip",
        missing_files=config.missing_files,
    )


def collate_videos(samples: Sequence[VideoSample | MovingSpriteSample]) -> Tensor:
    """Stack the ``clip`` of each sample into a batch (uint8 clips become floats in [0, 1]).

    Shape:
        Returns ``(B, C, T, H, W)`` float.

    Example:
        >>> from bgdebias.data import MovingSpriteDataset
        >>> from bgdebias.training import collate_videos
        >>> videos = MovingSpriteDataset(length=2, num_frames=4, size=32)
        >>> collate_videos([videos[0], videos[1]]).shape
        torch.Size([2, 3, 4, 32, 32])
    """
    batch = torch.stack([sample.clip for sample in samples])
    return batch if batch.is_floating_point() else batch.float() / 255.0


def collate_labelled_videos(
    samples: Sequence[VideoSample | MovingSpriteSample],
) -> tuple[Tensor, Tensor]:
    """Like :func:`collate_videos`, also stacking the samples' ``label``.

    Shape:
        Returns ``(B, C, T, H, W)`` float and ``(B,)`` int64.
    """
    labels = torch.tensor([sample.label for sample in samples], dtype=torch.long)
    return collate_videos(samples), labels
