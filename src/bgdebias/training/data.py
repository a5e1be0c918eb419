"""The pretraining dataset of a configuration, and batching of its samples."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from bgdebias.data.synthetic import MovingSpriteDataset
from bgdebias.training.config import PretrainConfig

#: Frames per synthetic training video; each view takes a random window of ``num_frames``.
SYNTHETIC_VIDEO_FRAMES = 12


def build_pretrain_dataset(config: PretrainConfig) -> Dataset[Any]:
    """Videos for pretraining: items whose ``clip`` is a float video ``(C, T, H, W)``.

    The synthetic dataset yields whole 12-frame videos, deterministic by index, so two
    views, their crops and every random draw come from the training generator and a
    resumed run sees exactly what an uninterrupted one would.
    """
    if config.dataset == "synthetic":
        return MovingSpriteDataset(
            split="train",
            length=config.synthetic_videos,
            num_frames=SYNTHETIC_VIDEO_FRAMES,
            size=config.size or 64,
            bias=config.synthetic_bias,
            seed=config.seed,
        )
    raise NotImplementedError(f"dataset {config.dataset!r} is not wired into pretraining yet")


def collate_videos(samples: Sequence[Any]) -> Tensor:
    """Stack the ``clip`` of each sample (a named tuple, dataclass or dict) into a batch.

    Shape:
        Returns ``(B, C, T, H, W)`` float.
    """
    clips = [_clip_of(sample) for sample in samples]
    batch = torch.stack(clips)
    return batch if batch.is_floating_point() else batch.float() / 255.0


def collate_labelled_videos(samples: Sequence[Any]) -> tuple[Tensor, Tensor]:
    """Like :func:`collate_videos`, also stacking the samples' ``label``.

    Shape:
        Returns ``(B, C, T, H, W)`` float and ``(B,)`` int64.
    """
    labels = [sample["label"] if isinstance(sample, dict) else sample.label for sample in samples]
    return collate_videos(samples), torch.stack([torch.as_tensor(label) for label in labels]).long()


def _clip_of(sample: Any) -> Tensor:
    if isinstance(sample, dict):
        return sample["clip"]  # type: ignore[no-any-return]
    return sample.clip  # type: ignore[no-any-return]
