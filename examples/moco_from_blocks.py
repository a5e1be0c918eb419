"""MoCo with the debiasing blocks, written out from the library's parts.

Read it top to bottom and copy what you need into your own codebase: a backbone that
exposes a stage with T >= 2, projection heads, a momentum key encoder, two negative
queues, the semi-negative pair mixer, the motion-aware decomposition and the dual loss.
It trains on the synthetic background-bias videos and needs no download:

    python examples/moco_from_blocks.py --steps 200

(`bgdebias pretrain` runs the same recipe with checkpoints, logs and multi-GPU support.)
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from bgdebias import DualBackgroundLoss, MotionAwareDecomposition, SemiNegativePairMixer
from bgdebias.blocks import StaticDynamicDecoupler
from bgdebias.data import ClipCompose, MovingSpriteDataset, NormalizeClip, RandomResizedCropClip
from bgdebias.moco import (
    MemoryQueue,
    ProjectionHead,
    cosine_momentum,
    momentum_copy,
    update_momentum,
)
from bgdebias.models import video_backbone


class Encoder(nn.Module):
    """Backbone -> (global embedding, dynamic embedding of the saliency-pooled stage)."""

    def __init__(self, dim: int = 128) -> None:
        super().__init__()
        self.backbone = video_backbone("small3d", stage="layer3")  # layer3 keeps T >= 2
        self.head = ProjectionHead(self.backbone.embed_dim, hidden_dim=512, out_dim=dim)
        self.decomposition = MotionAwareDecomposition()
        self.micro_head = ProjectionHead(self.backbone.stage_channels, hidden_dim=512, out_dim=dim)

    def forward(self, clips: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.backbone(clips)
        dynamic = self.decomposition(out.features).dynamic
        return self.head(out.pooled), self.micro_head(dynamic)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--steps", type=int, default=200, help="training steps")
    parser.add_argument(
        "--batch-size", type=int, default=32, help="clips per step (the mixer needs >= 2)"
    )
    parser.add_argument("--size", type=int, default=64, help="frame side in pixels, >= 32")
    parser.add_argument("--videos", type=int, default=1024, help="synthetic videos to sample from")
    args = parser.parse_args()
    for option, value, minimum in [
        ("--steps", args.steps, 1),
        ("--batch-size", args.batch_size, 2),
        ("--size", args.size, 32),
        ("--videos", args.videos, 1),
    ]:
        if value < minimum:
            parser.error(f"{option} must be >= {minimum}, got {value}")
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)

    # Data: whole synthetic videos; two random crops of each make the query and key views.
    # One horizontal flip for both views would also be fine; never flip only one of them.
    videos = MovingSpriteDataset(split="train", length=args.videos, size=args.size)
    augment = ClipCompose([RandomResizedCropClip(args.size, scale=(0.4, 1.0)), NormalizeClip()])

    # Model: query encoder, momentum key encoder, one queue per contrast.
    query_encoder = Encoder()
    key_encoder = momentum_copy(query_encoder)
    queue, micro_queue = MemoryQueue(128, 1024), MemoryQueue(128, 1024)
    mixer = SemiNegativePairMixer(StaticDynamicDecoupler(mask_mode="frame"))
    criterion = DualBackgroundLoss(temperature=0.1)
    optimizer = torch.optim.AdamW(query_encoder.parameters(), lr=1e-3, weight_decay=1e-4)

    for step in range(args.steps):
        index = torch.randint(len(videos), (args.batch_size,), generator=generator)
        clips = videos.batch(index).clip  # (B, 3, T, H, W) in [0, 1]
        query_view, key_view = augment(clips, generator), augment(clips, generator)

        # Semi-negative pairs: the query's actor on a partner's background (a positive)
        # and its own motionless background (a hard negative).
        mixed = mixer(query_view, generator=generator)
        query, micro_query = query_encoder(query_view)
        with torch.no_grad():
            # One key batch: batch norm must not see the static backgrounds on their own.
            keys, micro_keys = key_encoder(torch.cat([key_view, mixed.mixed, mixed.background]))
        key, mixed_key, background_key = keys.chunk(3)
        micro_key, micro_mixed_key, _ = micro_keys.chunk(3)

        loss = criterion(
            query,
            key,
            mixed_key=mixed_key,
            background_key=background_key,
            micro_query=micro_query,
            micro_key=micro_mixed_key,
            queue=queue.negatives,
            micro_queue=micro_queue.negatives,
            background_valid=mixed.has_motion,
        )
        optimizer.zero_grad()
        loss.total.backward()
        optimizer.step()
        update_momentum(query_encoder, key_encoder, cosine_momentum(step, args.steps, base=0.99))
        queue.enqueue(key)
        micro_queue.enqueue(micro_key)
        if step % 20 == 0 or step == args.steps - 1:
            print(
                f"step {step:4d}  loss {loss.total.item():.3f}  (static {loss.static.item():.3f}"
                f"  wide {loss.wide.item():.3f}  micro {loss.micro.item():.3f})"
            )


if __name__ == "__main__":
    main()
