"""The encoder of the pretraining recipe: backbone, projection head, and the motion-aware
decomposition with its own head for the micro term."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from bgdebias._validation import check_clip
from bgdebias.blocks import MotionAwareDecomposition
from bgdebias.moco import ProjectionHead
from bgdebias.models import VideoBackbone, one_frame_unsafe_layers


@dataclass(frozen=True)
class EncodedClips:
    """Embeddings of a batch of clips.

    Attributes:
        embedding: Projected global embedding. Shape: ``(B, projection_dim)``.
        micro_embedding: Projected dynamic (saliency-pooled) embedding, or ``None`` without
            the micro branch. Shape: ``(B, projection_dim)``.
        features: The stage feature map the micro branch read, kept only when asked
            (``keep_maps=True``) and with a micro branch, else ``None``. Shape:
            ``(B, C', T', H', W')``.
        saliency: Its salient map, kept likewise. Shape: ``(B, 1, H', W')``.

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
    features: Tensor | None = None
    saliency: Tensor | None = None


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

    def forward(self, clip: Tensor, *, keep_maps: bool = False) -> EncodedClips:
        """Encode a batch of clips. Shape: ``(B, C, T, H, W)``.

        With ``keep_maps`` the result also holds the stage feature map and its salient map
        (for :meth:`micro_embedding_where`).
        """
        out = self.backbone(clip)
        return self._embed(out.pooled, out.features, keep_maps=keep_maps)

    def micro_embedding_where(self, features: Tensor, saliency: Tensor) -> Tensor:
        """The dynamic embedding of ``features`` pooled with a given salient map.

        E.g. a still clip's features pooled where another clip's actor moves: the scene
        around that actor, as the micro head sees it (a still clip's own salient map is
        empty, so its own dynamic embedding is the same vector for every still clip).

        Args:
            features: Stage feature maps (``EncodedClips.features``). Shape:
                ``(B, C', T', H', W')``.
            saliency: Salient maps to pool with (``EncodedClips.saliency`` of other
                clips). Shape: ``(B, 1, H', W')``.

        Returns:
            The projected dynamic embeddings. Shape: ``(B, projection_dim)``.

        Raises:
            ValueError: If the encoder has no micro branch, or the shapes do not match.

        Example:
            >>> import torch
            >>> from bgdebias.models import Small3DCNN
            >>> backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0))
            >>> encoder = DebiasEncoder(backbone, projection_dim=8, hidden_dim=16, micro=True)
            >>> clips = torch.rand(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(0))
            >>> out = encoder(clips, keep_maps=True)
            >>> again = encoder.micro_embedding_where(out.features, out.saliency)
            >>> torch.allclose(again, out.micro_embedding)  # its own map: the same embedding
            True
        """
        if self.decomposition is None or self.micro_head is None:
            raise ValueError("`micro_embedding_where` needs an encoder built with micro=True")
        dynamic = self.decomposition(features, saliency=saliency).dynamic
        embedding: Tensor = self.micro_head(dynamic)
        return embedding

    def encode_still(self, frames: Tensor, *, keep_maps: bool = False) -> EncodedClips:
        """Encode still clips, each given by one frame: as :meth:`forward` would the clip.

        A clip whose frames are all equal gives features constant in time through a
        backbone with replicate temporal padding (checked by
        :func:`~bgdebias.models.one_frame_unsafe_layers`), so one frame
        gives the same embeddings at a fraction of the cost (with the same normalisation:
        batch-norm layers in training mode see only these frames, see
        :func:`~bgdebias.models.normalise_with`). The dynamic embedding of a still clip is
        that of an empty salient map, as :meth:`forward` finds it.

        Args:
            frames: One frame per clip. Shape: ``(B, C, 1, H, W)``.
            keep_maps: Keep the stage feature map (two equal time steps) and its (empty)
                salient map, as :meth:`forward` does.

        Returns:
            The clips' embeddings. Shape: ``(B, projection_dim)`` each.

        Raises:
            ValueError: If ``frames`` holds more than one frame per clip, or if the
                backbone has layers through which one frame does not stand for a still
                clip.

        Example:
            >>> import torch
            >>> from bgdebias.models import Small3DCNN
            >>> backbone = Small3DCNN(base_width=2, generator=torch.Generator().manual_seed(0))
            >>> encoder = DebiasEncoder(backbone, projection_dim=8, hidden_dim=16, micro=True)
            >>> frame = torch.rand(2, 3, 1, 32, 32, generator=torch.Generator().manual_seed(0))
            >>> _ = encoder.eval()  # batch norm from running statistics: same normalisation
            >>> still = encoder.encode_still(frame)
            >>> clip = encoder(frame.expand(-1, -1, 8, -1, -1))
            >>> torch.allclose(still.embedding, clip.embedding, atol=1e-6)
            True
        """
        check_clip(frames, "frames")
        if frames.shape[2] != 1:
            raise ValueError(
                f"`frames` must hold one frame per clip (T=1 in (B, C, T, H, W)), got "
                f"T={frames.shape[2]} in shape {tuple(frames.shape)}"
            )
        unsafe = one_frame_unsafe_layers(self.backbone)
        if unsafe:
            raise ValueError(
                f"one frame does not stand for a still clip in backbone "
                f"{self.backbone.name!r}: layers {unsafe[:3]} mix frames without replicate "
                "temporal padding (build it with temporal_padding='replicate' or convert it "
                "with bgdebias.models.replicate_temporal_padding)"
            )
        out = self.backbone(frames)
        # Two equal steps: the decomposition needs T >= 2, and finds no motion in them.
        features = out.features.expand(-1, -1, 2, -1, -1)
        return self._embed(out.pooled, features, keep_maps=keep_maps)

    def _embed(self, pooled: Tensor, features: Tensor, *, keep_maps: bool) -> EncodedClips:
        """Both heads on the backbone's pooled vector and stage map ``(B, C, T, H, W)``."""
        if self.decomposition is None or self.micro_head is None:
            return EncodedClips(self.head(pooled), None)
        decomposed = self.decomposition(features)
        micro = self.micro_head(decomposed.dynamic)
        if not keep_maps:
            return EncodedClips(self.head(pooled), micro)
        return EncodedClips(self.head(pooled), micro, features, decomposed.saliency)
