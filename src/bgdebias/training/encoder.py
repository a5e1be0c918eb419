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
        embedding: Projected global embedding. Shape: ``(B, projection_dim)``.
        micro_embedding: Projected dynamic (saliency-pooled) embedding, or ``None`` without
            the micro branch. Shape: ``(B, projection_dim)``.

    Example:
        >>> import torch
        >>> from bgdebias.models import Small3DCNN
        >>> backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0))
        >>> encoder = DebiasEncoder(backbone, projection_dim=8, hidden_dim=16, micro=False)
        >>> out = encoder(torch.rand(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(0)))
        >>> out.embedding.shape, out.micro_embedding is None  # no micro branch: None
        (torch.Size([2, 8]), True)
    """

    embedding: Tensor
    micro_embedding: Tensor | None


class DebiasEncoder(nn.Module):
    """Backbone + projection head, plus ``MotionAwareDecomposition`` and a micro head.

    Args:
        backbone: A :class:`~bgdebias.models.VideoBackbone` that returns the feature map of
            the stage the decomposition reads (it must keep ``T >= 2`` there).
        projection_dim: Output dimension of both heads (the backbone's own
            ``embed_dim`` is their input width).
        hidden_dim: Hidden width of the two-layer heads.
        micro: Build the micro branch (decomposition + micro head).

    Shape:
        clip ``(B, C, T, H, W)`` -> embeddings ``(B, projection_dim)``.

    Example:
        >>> import torch
        >>> from bgdebias.models import Small3DCNN
        >>> backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0))
        >>> encoder = DebiasEncoder(backbone, projection_dim=8, hidden_dim=16, micro=True)
        >>> clips = torch.rand(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> out = encoder(clips)
        >>> out.embedding.shape, out.micro_embedding.shape
        (torch.Size([2, 8]), torch.Size([2, 8]))
        >>> encoder.micro_head.in_dim  # the micro head reads the layer3 map: 4 * base_width
        8
    """

    def __init__(
        self,
        backbone: VideoBackbone,
        *,
        projection_dim: int = 128,
        hidden_dim: int = 512,
        micro: bool,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = ProjectionHead(
            backbone.embed_dim, hidden_dim=hidden_dim, out_dim=projection_dim
        )
        self.decomposition: MotionAwareDecomposition | None = None
        self.micro_head: ProjectionHead | None = None
        if micro:
            self.decomposition = MotionAwareDecomposition(check_finite=False)
            self.micro_head = ProjectionHead(
                backbone.stage_channels, hidden_dim=hidden_dim, out_dim=projection_dim
            )

    def forward(self, clip: Tensor) -> EncodedClips:
        """Encode a batch of clips. Shape: ``(B, C, T, H, W)``."""
        out = self.backbone(clip)
        micro = None
        if self.decomposition is not None and self.micro_head is not None:
            micro = self.micro_head(self.decomposition(out.features).dynamic)
        return EncodedClips(self.head(out.pooled), micro)
