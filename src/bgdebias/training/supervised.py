"""A supervised reference: the same backbone, optimiser and budget, trained with labels."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from bgdebias.models import VideoBackbone
from bgdebias.training.config import PretrainConfig
from bgdebias.training.data import collate_labelled_videos
from bgdebias.training.distributed import DistributedContext
from bgdebias.training.memory_format import convolutions_to_channels_last
from bgdebias.training.recipe import build_backbone
from bgdebias.training.sampler import StepBatchSampler
from bgdebias.training.state import TrainingState
from bgdebias.training.step import train_step
from bgdebias.training.views import view_augmentation


def train_supervised(
    dataset: Dataset[Any], config: PretrainConfig, *, num_classes: int
) -> VideoBackbone:
    """Train ``config.backbone`` + a linear head with cross-entropy on ``dataset``.

    Uses the pretraining run's optimiser, learning-rate schedule, batch size, number of
    steps and augmentation (one view), so its accuracy says what the backbone and budget
    can learn at all: on the synthetic ``independent`` split it checks that motion is
    learnable; on the biased ``train`` split it shows how biased the data make a model.

    Args:
        dataset: Labelled videos, e.g. a
            :class:`~bgdebias.data.synthetic.MovingSpriteDataset` of 12-frame videos.
        config: The pretraining configuration whose budget and optimiser to reuse.
        num_classes: Classes of the linear head.

    Returns:
        The trained backbone in eval mode (the head is dropped).

    Example:
        >>> from bgdebias.data.synthetic import MovingSpriteDataset
        >>> from bgdebias.training import PretrainConfig, train_supervised
        >>> data = MovingSpriteDataset(split="independent", length=8, num_frames=12, size=32)
        >>> config = PretrainConfig(steps=2, size=32, batch_size=4, device="cpu")
        >>> backbone = train_supervised(data, config, num_classes=8)
        >>> backbone.training, backbone.name
        (False, 'small3d')
    """
    config = config.resolved()
    torch.manual_seed(config.seed)
    backbone = build_backbone(config)
    if config.channels_last:
        convolutions_to_channels_last(backbone)
    model = nn.ModuleDict(
        {"backbone": backbone, "head": nn.Linear(backbone.embed_dim, num_classes)}
    )
    state = TrainingState.start(config, model)
    augment = view_augmentation(config, num_views=1)
    sampler = StepBatchSampler(
        len(dataset),  # type: ignore[arg-type]
        config.batch_size,
        seed=config.seed,
        start_step=0,
        steps=config.steps,
        context=DistributedContext(),
    )
    loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_labelled_videos)
    model.train()
    for videos, labels in loader:
        (clips,) = augment(videos, state.generator)
        logits: Tensor = model["head"](backbone(clips).pooled)
        train_step(state, F.cross_entropy(logits, labels))
    return backbone.eval()
