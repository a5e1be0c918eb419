"""An encoder for clips in [0, 1]: Kinetics normalisation, backbone, pooled features."""

from __future__ import annotations

import torch
from torch import nn

from bgdebias.data import NormalizeClip
from bgdebias.evaluation.features import PooledFeatures


class NormalizedEncoder(nn.Module):
    """Clips in [0, 1] -> Kinetics normalisation -> backbone -> pooled features ``(B, D)``.

    The background-bias stress test reads clips in [0, 1]; a pretrained backbone expects
    them normalised as in pretraining. This module does both steps.

    Args:
        backbone: A :class:`~bgdebias.models.VideoBackbone` (or any module whose output
            :class:`~bgdebias.evaluation.PooledFeatures` reads).

    Shape:
        clips ``(B, 3, T, H, W)`` in [0, 1] -> ``(B, D)``.

    Example:
        >>> import torch
        >>> from bgdebias.models import Small3DCNN
        >>> encoder = NormalizedEncoder(Small3DCNN(base_width=2)).eval()
        >>> encoder(torch.rand(3, 3, 8, 32, 32)).shape
        torch.Size([3, 16])
    """

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.normalize = NormalizeClip()
        self.features = PooledFeatures(backbone)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """Pooled features of clips in [0, 1]. Shape: ``(B, 3, T, H, W)`` -> ``(B, D)``."""
        features: torch.Tensor = self.features(self.normalize(clips))
        return features
