"""What the integration guides assume you already have: an encoder, clips and augmentation.

Replace these with your own. The encoder is any module mapping clips ``(B, C, T, H, W)``
to embeddings ``(B, D)``; the clips are raw ``[0, 1]`` videos; ``two_views`` is your
augmentation. The guides (``lightly_moco.py``, ``lightning_moco.py``, ``moco_v2_queue.py``)
import them from here.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bgdebias.data.synthetic import MovingSpriteDataset
from bgdebias.moco import ProjectionHead
from bgdebias.models import Small3DCNN


class ClipEncoder(nn.Module):
    """Stands in for your encoder: a small 3D CNN and a MoCo v2 projection head.

    Args:
        embed_dim: Output dimension ``D``.

    Shape:
        clips ``(B, 3, T, H, W)`` -> embeddings ``(B, embed_dim)``.
    """

    def __init__(self, embed_dim: int = 32) -> None:
        super().__init__()
        self.backbone = Small3DCNN(base_width=4, stage="layer3")
        self.head = ProjectionHead(self.backbone.embed_dim, hidden_dim=64, out_dim=embed_dim)

    def forward(self, clips: Tensor) -> Tensor:
        return self.head(self.backbone(clips).pooled)


def synthetic_clips(count: int, *, num_frames: int = 4, size: int = 32, seed: int = 0) -> Tensor:
    """Stands in for your data: ``count`` videos of a sprite moving on a textured scene.

    Shape: ``(count, 3, num_frames, size, size)``, values in [0, 1].
    """
    data = MovingSpriteDataset(
        split="train", length=count, num_frames=num_frames, size=size, seed=seed
    )
    clips: Tensor = data.batch(range(count)).clip
    return clips


def two_views(clips: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Stands in for your augmentation: a brightness change per view, one flip per video.

    Both views of a video share the flip: flipping only one would mirror its motion.

    Shape: clips ``(B, C, T, H, W)`` -> two views of the same shape.
    """
    batch = clips.shape[0]
    flip = torch.rand(batch, generator=generator).to(clips.device) < 0.5
    clips = torch.where(flip.view(-1, 1, 1, 1, 1), clips.flip(-1), clips)
    views = []
    for _ in range(2):
        gain = 0.8 + 0.4 * torch.rand(batch, 1, 1, 1, 1, generator=generator)
        views.append((clips * gain.to(clips)).clamp(0, 1))
    return views[0], views[1]
