"""The encoder of the pretraining recipe: backbone, projection head, and the motion-aware
decomposition with its own head for the micro term."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from bgdebias.blocks import MotionAwareDecomposition
from bgdebias.moco import ProjectionHead
from bgdebias.models import VideoBackbone


@dataclass(frozen=True)
class EncodedClips:
    """Embeddings of a batch of clips.

    Attributes:
        embedding: Projected global embedding. Shape: ``(B, embed_dim)``.
        micro_embedding: Projected dynamic (saliency-pooled) embedding, or ``None`` without
            the micro branch. Shape: ``(B, embed_dim)``.
    """

    embedding: Tensor
    micro_embedding: Tensor | None


class DebiasEncoder(nn.Module):
    """Backbone + projection head, plus ``MotionAwareDecomposition`` and a micro head.

    Args:
        backbone: A :class:`~bgdebias.models.VideoBackbone` that returns the feature map of
            the stage the decomposition reads (it must keep ``T >= 2`` there).
        embed_dim: Output dimension of both heads.
        hidden_dim: Hidden width of the two-layer heads.
        micro: Build the micro branch (decomposition + micro head).

    Shape:
        clip ``(B, C, T, H, W)`` -> embeddings ``(B, embed_dim)``.
    """

    def __init__(
        self, backbone: VideoBackbone, *, embed_dim: int = 128, hidden_dim: int = 512, micro: bool
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = ProjectionHead(backbone.embed_dim, hidden_dim, embed_dim)
        self.decomposition: MotionAwareDecomposition | None = None
        self.micro_head: ProjectionHead | None = None
        if micro:
            self.decomposition = MotionAwareDecomposition(check_finite=False)
            self.micro_head = ProjectionHead(backbone.stage_channels, hidden_dim, embed_dim)

    def forward(self, clip: Tensor) -> EncodedClips:
        """Encode a batch of clips. Shape: ``(B, C, T, H, W)``."""
        out = self.backbone(clip)
        micro = None
        if self.decomposition is not None and self.micro_head is not None:
            micro = self.micro_head(self.decomposition(out.features).dynamic)
        return EncodedClips(self.head(out.pooled), micro)
