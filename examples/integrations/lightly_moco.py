"""MoCo written with lightly, plus the wide background term of bgdebias.

lightly's ``NTXentLoss(memory_bank_size=(K, D))`` keeps MoCo's negatives in its memory
bank. The wide term of :class:`bgdebias.DualBackgroundLoss` needs the same negatives, as
``(K, D)`` rows, read **before** the lightly loss call puts this step's keys into the bank.
Both terms use one temperature. Needs ``pip install "lightly>=1.6,<1.7"``; trains a few
steps on synthetic clips:

    python examples/integrations/lightly_moco.py --steps 3
"""

from __future__ import annotations

import argparse
import copy
from typing import NamedTuple

import torch
from integration_stand_ins import ClipEncoder, synthetic_clips, two_views
from lightly.loss import NTXentLoss
from lightly.models.utils import deactivate_requires_grad, update_momentum
from lightly.utils.scheduler import cosine_schedule
from torch import Tensor, nn

from bgdebias import DualBackgroundLoss, MixedBatch, SemiNegativePairMixer, StaticDynamicDecoupler

# NTXentLoss defaults to SimCLR's 0.5; bgdebias and FAME use 0.1 (MoCo v2 0.2). Give
# both losses the same value.
TEMPERATURE = 0.1


def bank_negatives(ntxent: NTXentLoss) -> Tensor:
    """A copy of the memory bank's keys, one key per row; read it before ``ntxent(...)``.

    lightly stores the bank as ``(K, D)`` but ``memory_bank.forward()`` hands it out
    transposed, ``(D, K)``; reading the buffer avoids the transpose. The copy matters: the
    loss call overwrites the oldest rows of the buffer in place.

    Shape: ``(K, D)``, the layout of ``DualBackgroundLoss(queue=...)``.
    """
    size = tuple(ntxent.memory_bank.size)
    if len(size) != 2:
        raise ValueError(
            f"`ntxent` has no memory bank (memory_bank_size={size}); "
            "build it with NTXentLoss(memory_bank_size=(K, D))"
        )
    return ntxent.memory_bank.bank.detach().clone()


def check_key_rows(negatives: Tensor) -> Tensor:
    """Raise unless every row of ``negatives`` is a unit vector, as in the bank's layout.

    A shape check cannot tell a square bank (``K == D``) from its transpose. The norms can:
    lightly stores L2-normalised keys, so the rows of the ``(K, D)`` layout have norm 1,
    while the rows of the transpose, ``(D, K)``, are feature dimensions and do not.

    Shape: ``(K, D)``, returned unchanged.
    """
    norms = negatives.norm(dim=1)
    if not torch.allclose(norms, torch.ones_like(norms), atol=1e-3):
        raise ValueError(
            f"the rows of `negatives` {tuple(negatives.shape)} are not unit vectors "
            f"(norms from {norms.min().item():.3f} to {norms.max().item():.3f}): "
            "pass the bank as (K, D) keys, not memory_bank.forward()'s (D, K)"
        )
    return negatives


class LightlyMoCo(nn.Module):
    """Your lightly MoCo model: an encoder and its momentum copy."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.encoder_momentum = copy.deepcopy(encoder)
        deactivate_requires_grad(self.encoder_momentum)


class StepLosses(NamedTuple):
    """The two terms of one step and the negatives both used (for logging and checks)."""

    moco: Tensor
    wide: Tensor
    negatives: Tensor


def moco_and_wide_losses(
    ntxent: NTXentLoss,
    wide_loss: DualBackgroundLoss,
    query: Tensor,
    keys: tuple[Tensor, Tensor, Tensor],
    mixed: MixedBatch,
) -> StepLosses:
    """lightly's MoCo term and bgdebias's wide term over the same negatives.

    Args:
        ntxent: lightly's loss with its memory bank; this call enqueues ``key``.
        wide_loss: ``DualBackgroundLoss`` with only the wide term switched on.
        query: Query embeddings (with gradients). Shape: ``(B, D)``.
        keys: The key encoder's ``(key, mixed_key, background_key)``, each ``(B, D)``.
        mixed: The mixer's output for the query view.
    """
    key, mixed_key, background_key = keys
    negatives = check_key_rows(bank_negatives(ntxent))  # + before ntxent enqueues `key`
    moco = ntxent(query, key)  # MoCo's InfoNCE over the bank; enqueues `key`
    wide = wide_loss(  # +
        query,
        key,
        mixed_key=mixed_key,
        background_key=background_key,
        queue=negatives,
        background_valid=mixed.has_motion,
        wide_valid=mixed.applied,
    ).wide
    return StepLosses(moco, wide, negatives)


def train(
    *, steps: int, batch_size: int, num_frames: int = 4, size: int = 32, seed: int = 0
) -> tuple[LightlyMoCo, NTXentLoss, list[StepLosses]]:
    """A few MoCo steps in lightly's style with the mixer and the wide term added."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = LightlyMoCo(ClipEncoder(embed_dim=32))
    # K a multiple of the batch size: lightly's bank drops the keys that do not fit
    # before the end of the buffer instead of wrapping them around.
    ntxent = NTXentLoss(temperature=TEMPERATURE, memory_bank_size=(16 * batch_size, 32))
    mixer = SemiNegativePairMixer(StaticDynamicDecoupler(threshold="otsu", mask_mode="frame"))
    wide_loss = DualBackgroundLoss(temperature=ntxent.temperature, w_static=0.0, w_micro=0.0)
    optimizer = torch.optim.AdamW(model.encoder.parameters(), lr=1e-3)
    clips_all = synthetic_clips(steps * batch_size, num_frames=num_frames, size=size, seed=seed)
    history = []
    for step, clips in enumerate(clips_all.split(batch_size)):
        update_momentum(
            model.encoder, model.encoder_momentum, m=cosine_schedule(step, steps, 0.99, 1.0)
        )
        query_view, key_view = two_views(clips, generator)
        mixed = mixer(query_view, generator=generator)  # +
        query = model.encoder(query_view)
        with torch.no_grad():  # one key batch, so batch norm cannot single out the backgrounds
            key_batch = torch.cat([key_view, mixed.mixed, mixed.background.contiguous()])
            key, mixed_key, background_key = model.encoder_momentum(key_batch).split(len(clips))
        keys = (key, mixed_key, background_key)
        losses = moco_and_wide_losses(ntxent, wide_loss, query, keys, mixed)
        optimizer.zero_grad()
        (losses.moco + losses.wide).backward()
        optimizer.step()
        history.append(losses)
    return model, ntxent, history


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
    _, _, history = train(steps=args.steps, batch_size=args.batch_size)
    for step, losses in enumerate(history):
        print(f"step {step}: moco {losses.moco.item():.3f} wide {losses.wide.item():.3f}")


if __name__ == "__main__":
    main()
