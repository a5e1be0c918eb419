"""A MoCo v2 model laid out like the official code, with the bgdebias blocks added.

Its queue is a ``(dim, K)`` buffer, one key per column, and its negative logits are
``q @ queue``. :class:`bgdebias.DualBackgroundLoss` takes negatives one per row, ``(K,
dim)``: the queue goes in as ``queue.T``, explicitly. Trains a few steps on synthetic
clips:

    python examples/integrations/moco_v2_queue.py --steps 3
"""

from __future__ import annotations

import argparse
import copy

import torch
import torch.nn.functional as F
from integration_stand_ins import ClipEncoder, synthetic_clips, two_views
from torch import Tensor, nn

from bgdebias import (
    DualBackgroundLoss,
    DualBackgroundLossOutput,
    SemiNegativePairMixer,
    StaticDynamicDecoupler,
)


class MoCo(nn.Module):
    """Your MoCo v2 model: query encoder, momentum key encoder and a ``(dim, K)`` queue.

    ``forward`` returns MoCo's logits ``(B, 1 + K)`` (positive first) and labels ``(B,)``.
    """

    queue: Tensor
    queue_ptr: Tensor

    def __init__(
        self,
        encoder: nn.Module,
        *,
        dim: int = 128,
        queue_size: int = 65536,
        momentum: float = 0.999,
        temperature: float = 0.2,
    ) -> None:
        super().__init__()
        self.momentum = momentum
        self.temperature = temperature
        self.encoder_q = encoder
        self.encoder_k = copy.deepcopy(encoder)
        self.encoder_k.requires_grad_(False)
        self.register_buffer("queue", F.normalize(torch.randn(dim, queue_size), dim=0))
        self.register_buffer("queue_ptr", torch.zeros(1, dtype=torch.long))

    @torch.no_grad()
    def momentum_update_key_encoder(self) -> None:
        for param_q, param_k in zip(
            self.encoder_q.parameters(), self.encoder_k.parameters(), strict=True
        ):
            param_k.mul_(self.momentum).add_(param_q.detach(), alpha=1.0 - self.momentum)

    @torch.no_grad()
    def dequeue_and_enqueue(self, keys: Tensor) -> None:
        """Write normalised keys ``(B, dim)`` as columns over the oldest ones."""
        batch, size = keys.shape[0], self.queue.shape[1]
        if size % batch:
            raise ValueError(f"queue size {size} must be a multiple of the batch size {batch}")
        ptr = int(self.queue_ptr)
        self.queue[:, ptr : ptr + batch] = keys.T
        self.queue_ptr[0] = (ptr + batch) % size

    def forward(self, im_q: Tensor, im_k: Tensor) -> tuple[Tensor, Tensor]:
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            self.momentum_update_key_encoder()
            k = F.normalize(self.encoder_k(im_k), dim=1)
        l_pos = (q * k).sum(dim=1, keepdim=True)
        l_neg = q @ self.queue.clone().detach()  # (B, dim) @ (dim, K)
        logits = torch.cat([l_pos, l_neg], dim=1) / self.temperature
        labels = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
        self.dequeue_and_enqueue(k)
        return logits, labels


class MoCoWithBlocks(MoCo):
    """The same model with the mixer and the dual loss; ``forward`` returns the loss.

    The wide term contrasts the query with the key of its mixed clip (its actor on
    another clip's background), the clip's own background being a hard negative.
    """

    def __init__(
        self,
        encoder: nn.Module,
        *,
        dim: int = 128,
        queue_size: int = 65536,
        momentum: float = 0.999,
        temperature: float = 0.2,
    ) -> None:
        super().__init__(
            encoder, dim=dim, queue_size=queue_size, momentum=momentum, temperature=temperature
        )
        self.mixer = SemiNegativePairMixer(  # +
            StaticDynamicDecoupler(threshold="otsu", mask_mode="frame")
        )
        self.dual_loss = DualBackgroundLoss(temperature=temperature, w_micro=0.0)  # +

    def forward(
        self, im_q: Tensor, im_k: Tensor, *, generator: torch.Generator | None = None
    ) -> DualBackgroundLossOutput:
        batch = im_q.shape[0]
        mixed = self.mixer(im_q, generator=generator)  # +
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            self.momentum_update_key_encoder()
            # + one key batch, so batch norm cannot single out the motionless backgrounds
            key_batch = torch.cat([im_k, mixed.mixed, mixed.background.contiguous()])
            keys = F.normalize(self.encoder_k(key_batch), dim=1)
        k, mixed_key, background_key = keys.split(batch)
        out = self.dual_loss(
            q,
            k,
            mixed_key=mixed_key,  # +
            background_key=background_key,  # +
            # The queue holds one key per column, (dim, K); the loss wants one per row.
            queue=self.queue.clone().detach().T,
            background_valid=mixed.has_motion,  # +
            wide_valid=mixed.applied,  # +
        )
        self.dequeue_and_enqueue(k)
        return out


def train(
    *, steps: int, batch_size: int, num_frames: int = 4, size: int = 32, seed: int = 0
) -> tuple[MoCoWithBlocks, list[DualBackgroundLossOutput]]:
    """A few SGD steps of :class:`MoCoWithBlocks` on synthetic clips."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = MoCoWithBlocks(ClipEncoder(embed_dim=32), dim=32, queue_size=16 * batch_size)
    optimizer = torch.optim.SGD(model.encoder_q.parameters(), lr=0.03, momentum=0.9)
    clips_all = synthetic_clips(steps * batch_size, num_frames=num_frames, size=size, seed=seed)
    history = []
    for clips in clips_all.split(batch_size):
        im_q, im_k = two_views(clips, generator)
        out = model(im_q, im_k, generator=generator)
        optimizer.zero_grad()
        out.total.backward()
        optimizer.step()
        history.append(out)
    return model, history


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
    _, history = train(steps=args.steps, batch_size=args.batch_size)
    for step, out in enumerate(history):
        print(f"step {step}: static {out.static.item():.3f} wide {out.wide.item():.3f}")


if __name__ == "__main__":
    main()
