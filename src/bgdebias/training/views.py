"""The views a pretraining configuration asks for (the pipeline itself is in ``data``)."""

from __future__ import annotations

import dataclasses

from bgdebias.data.transforms.presets import PRETRAIN_VIEW_STRENGTHS
from bgdebias.data.transforms.views import ClipViewAugmentation
from bgdebias.training.config import ResolvedPretrainConfig

__all__ = ["ClipViewAugmentation", "view_augmentation"]


def view_augmentation(
    config: ResolvedPretrainConfig, *, num_views: int = 2
) -> ClipViewAugmentation:
    """The views a resolved :class:`PretrainConfig` asks for (frames, crop, flip, jitter).

    Args:
        config: A resolved configuration (see :meth:`PretrainConfig.resolved`).
        num_views: 2 for MoCo, 1 for supervised training.

    Returns:
        The augmentation module: ``PRETRAIN_VIEW_STRENGTHS`` with the
        configuration's crop area, flip and jitter probabilities.

    Example:
        >>> from bgdebias.training import PretrainConfig
        >>> augment = view_augmentation(PretrainConfig(size=32, num_frames=4).resolved())
        >>> augment.num_views, augment.strengths.scale, augment.strengths.blur_p
        (2, (0.8, 1.0), 0.0)
    """
    strengths = dataclasses.replace(
        PRETRAIN_VIEW_STRENGTHS,
        scale=(config.min_crop_scale, 1.0),
        flip_p=config.flip_p,
        jitter_p=config.jitter_p,
    )
    return ClipViewAugmentation(
        num_frames=config.num_frames,
        size=config.size,
        stride=config.frame_stride,
        strengths=strengths,
        num_views=num_views,
    )
