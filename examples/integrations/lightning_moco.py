"""A PyTorch Lightning module built from the bgdebias blocks (all three loss terms).

The key encoder follows the query encoder by a momentum (EMA) update that must run once
per optimizer step, after it: the module overrides ``optimizer_step``, which Lightning
calls only when the optimizer steps (not on the batches that accumulate gradients).
Needs ``pip install lightning``; trains a few steps on synthetic clips:

    python examples/integrations/lightning_moco.py --steps 3
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from integration_stand_ins import synthetic_clips, two_views
from torch import Tensor, nn
from torch.utils.data import DataLoader

from bgdebias import (
    DualBackgroundLoss,
    MotionAwareDecomposition,
    SemiNegativePairMixer,
    StaticDynamicDecoupler,
)
from bgdebias.moco import (
    MemoryQueue,
    ProjectionHead,
    cosine_momentum,
    momentum_copy,
    update_momentum,
)
from bgdebias.models import Small3DCNN


class MicroEncoder(nn.Module):
    """Your backbone with two heads: the clip embedding and the dynamic embedding.

    :class:`~bgdebias.MotionAwareDecomposition` reads a stage whose feature map keeps at
    least two time steps and pools it where it moves.

    Shape: clips ``(B, 3, T, H, W)`` -> two embeddings ``(B, embed_dim)``.
    """

    def __init__(self, embed_dim: int = 32) -> None:
        super().__init__()
        self.backbone = Small3DCNN(base_width=4, stage="layer3")
        self.head = ProjectionHead(self.backbone.embed_dim, hidden_dim=64, out_dim=embed_dim)
        self.decomposition = MotionAwareDecomposition()
        self.micro_head = ProjectionHead(
            self.backbone.stage_channels, hidden_dim=64, out_dim=embed_dim
        )

    def forward(self, clips: Tensor) -> tuple[Tensor, Tensor]:
        out = self.backbone(clips)
        dynamic = self.decomposition(out.features).dynamic  # (B, C_s): what moves
        return self.head(out.pooled), self.micro_head(dynamic)


class DebiasedMoCoModule(L.LightningModule):
    """MoCo with the mixer, the motion-aware decomposition and the dual loss.

    Args:
        embed_dim: Embedding dimension ``D``.
        queue_size: Negative keys per queue.
        temperature: InfoNCE temperature of all three terms.
        base_momentum: Key-encoder momentum at step 0, raised to 1 on a cosine schedule.
        lr: AdamW learning rate.
    """

    def __init__(
        self,
        *,
        embed_dim: int = 32,
        queue_size: int = 64,
        temperature: float = 0.1,
        base_momentum: float = 0.99,  # noqa: ARG002 (read back from self.hparams)
        lr: float = 1e-3,  # noqa: ARG002 (read back from self.hparams)
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.encoder = MicroEncoder(embed_dim)
        self.key_encoder = momentum_copy(self.encoder)  # frozen; moves only by EMA
        # Queues are modules: their buffers follow .to(device) and enter the checkpoint.
        self.queue = MemoryQueue(embed_dim, queue_size)
        self.micro_queue = MemoryQueue(embed_dim, queue_size)
        self.mixer = SemiNegativePairMixer(
            StaticDynamicDecoupler(threshold="otsu", mask_mode="frame")
        )
        self.loss = DualBackgroundLoss(temperature=temperature)

    def training_step(self, clips: Tensor, _batch_idx: int) -> Tensor:
        batch = clips.shape[0]
        query_view, key_view = two_views(clips)
        mixed = self.mixer(query_view)
        query, micro_query = self.encoder(query_view)
        with torch.no_grad():  # one key batch, so batch norm cannot single out the backgrounds
            key_batch = torch.cat([key_view, mixed.mixed, mixed.background.contiguous()])
            keys, micro_keys = self.key_encoder(key_batch)
        key, mixed_key, background_key = keys.split(batch)
        micro_key_view, micro_mixed, micro_background = micro_keys.split(batch)
        out = self.loss(
            query,
            key,
            mixed_key=mixed_key,
            background_key=background_key,
            micro_query=micro_query,
            micro_key=micro_mixed,  # the actor on a foreign background
            micro_background_key=micro_background,
            queue=self.queue.negatives,  # (K, D) copies, read before this step's keys enter
            micro_queue=self.micro_queue.negatives,
            background_valid=mixed.has_motion,
            wide_valid=mixed.applied,
            micro_valid=mixed.applied,
        )
        self.queue.enqueue(key)  # gathered from every process under DDP
        self.micro_queue.enqueue(micro_key_view)
        terms = {"loss": out.total, "static": out.static, "wide": out.wide, "micro": out.micro}
        self.log_dict(terms, prog_bar=True, batch_size=batch)
        return out.total

    def optimizer_step(
        self,
        epoch: int,
        batch_idx: int,
        optimizer: Any,
        optimizer_closure: Callable[[], Any] | None = None,
    ) -> None:
        # The closure runs training_step and backward; step() then moves the query encoder.
        super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)
        self.update_key_encoder()

    @torch.no_grad()
    def update_key_encoder(self) -> None:
        """One EMA step of the key encoder towards the query encoder just updated."""
        total = self.trainer.estimated_stepping_batches
        if not math.isfinite(total):
            raise ValueError("the momentum schedule needs Trainer(max_steps=...) or max_epochs")
        # global_step counts completed steps: inside optimizer_step it is this step's index.
        momentum = cosine_momentum(
            self.global_step, max(int(total), 1), base=self.hparams["base_momentum"]
        )
        update_momentum(self.encoder, self.key_encoder, momentum)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.encoder.parameters(), lr=self.hparams["lr"])


def fit(
    *,
    steps: int,
    batch_size: int,
    accumulate_grad_batches: int = 1,
    num_frames: int = 4,
    size: int = 32,
    seed: int = 0,
    module: DebiasedMoCoModule | None = None,
) -> tuple[DebiasedMoCoModule, L.Trainer]:
    """Train ``steps`` optimizer steps on synthetic clips, on the CPU or one GPU."""
    L.seed_everything(seed, verbose=False)
    module = module if module is not None else DebiasedMoCoModule()
    count = steps * accumulate_grad_batches * batch_size
    clips = synthetic_clips(count, num_frames=num_frames, size=size, seed=seed)
    loader = DataLoader(clips, batch_size=batch_size, shuffle=True)  # items (3, T, H, W)
    trainer = L.Trainer(
        max_steps=steps,
        accumulate_grad_batches=accumulate_grad_batches,
        accelerator="auto",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, loader)
    return module, trainer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--steps", type=int, default=3, help="training steps")
    parser.add_argument(
        "--batch-size", type=int, default=4, help="clips per step (the mixer needs >= 2)"
    )
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    if args.batch_size < 2:
        parser.error(
            f"--batch-size must be >= 2 (each clip needs a partner), got {args.batch_size}"
        )
    _, trainer = fit(steps=args.steps, batch_size=args.batch_size)
    metrics = {name: round(float(value), 3) for name, value in trainer.callback_metrics.items()}
    print(f"after {trainer.global_step} steps: {metrics}")


if __name__ == "__main__":
    main()
