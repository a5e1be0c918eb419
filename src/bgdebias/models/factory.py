"""``video_backbone``: every supported backbone by name."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from bgdebias._validation import check_choice
from bgdebias.models.backbone import VideoBackbone, check_stage
from bgdebias.models.small3d import Small3DCNN
from bgdebias.models.torchvision_backbones import (
    RESNET_STAGE_CHANNELS,
    S3D_STAGE_CHANNELS,
    torchvision_backbone,
)

BACKBONE_STAGES = MappingProxyType(
    {
        "r3d_18": tuple(RESNET_STAGE_CHANNELS),
        "mc3_18": tuple(RESNET_STAGE_CHANNELS),
        "r2plus1d_18": tuple(RESNET_STAGE_CHANNELS),
        "s3d": tuple(S3D_STAGE_CHANNELS),
        "small3d": ("layer1", "layer2", "layer3", "layer4"),
    }
)
"""Stage names of every backbone, input side first."""


def video_backbone(
    name: str, *, stage: str | None = "layer3", weights: Any = None, **kwargs: Any
) -> VideoBackbone:
    """Build a video backbone that returns a stage's feature map and the pooled output.

    ``"layer3"`` (the default) keeps ``T_s >= 2`` with 8 input frames on every backbone,
    as :class:`~bgdebias.blocks.MotionAwareDecomposition` needs; ``"layer4"`` does not on
    ``r3d_18``, ``r2plus1d_18`` and ``s3d``. The shape of every stage of every backbone
    is in :ref:`backbone-stage-shapes` (computed from this code). ``name`` and ``stage``
    are plain strings (they usually come from a configuration file) checked against
    ``BACKBONE_STAGES``.

    Args:
        name: ``"r3d_18"``, ``"mc3_18"``, ``"r2plus1d_18"``, ``"s3d"`` or ``"small3d"``.
        stage: Stage returned as ``features`` (``BACKBONE_STAGES[name]``), or ``None``
            for the last stage.
        weights: torchvision weights (``None``: random init, the only choice offline and
            for ``small3d``).
        **kwargs: Further arguments of the torchvision builder or of
            :class:`~bgdebias.models.Small3DCNN`; ``pool="avg"`` or ``"max"`` selects the
            global pooling of ``pooled`` (default: ``"avg"`` for the torchvision models,
            ``"max"`` for ``small3d``).

    Returns:
        A :class:`~bgdebias.models.VideoBackbone`.

    Shape:
        clip ``(B, 3, T, H, W)`` -> ``features (B, C_s, T_s, H_s, W_s)``, ``pooled (B, D)``.

    Example:
        >>> import torch
        >>> backbone = video_backbone("r3d_18", stage="layer3")
        >>> out = backbone(torch.randn(1, 3, 8, 32, 32))
        >>> out.features.shape, out.pooled.shape  # 112 px would give 14 x 14 at layer3
        (torch.Size([1, 256, 2, 4, 4]), torch.Size([1, 512]))
    """
    check_choice(name, "name", BACKBONE_STAGES)
    if stage is not None:
        check_stage(stage, BACKBONE_STAGES[name], name)
    if name == "small3d":
        if weights is not None:
            raise ValueError(
                f"`weights` must be None for 'small3d' (no pretrained weights), got {weights!r}"
            )
        return Small3DCNN(stage=stage, **kwargs)
    return torchvision_backbone(name, stage=stage, weights=weights, **kwargs)
