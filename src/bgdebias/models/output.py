"""What a video backbone returns."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class BackboneOutput:
    """Feature map of the chosen stage and the pooled representation of a clip batch.

    Attributes:
        features: Feature map of the backbone's ``stage`` (the input of
            :class:`~bgdebias.blocks.MotionAwareDecomposition`).
            Shape: ``(B, C_s, T_s, H_s, W_s)`` with ``C_s = backbone.stage_channels``.
        pooled: Global average of the last stage's feature map: the clip representation
            (no classifier). Shape: ``(B, D)`` with ``D = backbone.embed_dim``.

    Example:
        >>> import torch
        >>> from bgdebias.models import Small3DCNN
        >>> backbone = Small3DCNN(stage="layer2", base_width=4)
        >>> out = backbone(torch.zeros(2, 3, 8, 32, 32))
        >>> out.features.shape, out.pooled.shape
        (torch.Size([2, 8, 4, 8, 8]), torch.Size([2, 32]))
        >>> backbone.stage_channels, backbone.embed_dim  # C_s of layer2, D of layer4
        (8, 32)
    """

    features: Tensor
    pooled: Tensor
