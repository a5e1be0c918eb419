"""Batches of indices that depend only on (seed, step, rank), so a run resumes at any step."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from bgdebias.training.distributed import DistributedContext


class StepBatchSampler:
    """Batches of indices as a pure function of (seed, epoch, rank): resumable at any step.

    Each epoch is a permutation drawn from ``seed + epoch``; ranks take disjoint
    interleaved shards; incomplete batches are dropped.

    Args:
        size: Number of items in the dataset.
        batch_size: Indices per batch (per process).
        seed: Seed of the epochs' permutations.
        start_step: First step to yield (a resumed run's step).
        steps: Step at which to stop (exclusive).
        context: This process's rank and the number of processes (default: a single
            process).

    Raises:
        ValueError: If the dataset holds fewer than one batch per process.

    Example:
        >>> from bgdebias.training import StepBatchSampler
        >>> whole = StepBatchSampler(10, 4, seed=0, start_step=0, steps=3)
        >>> resumed = StepBatchSampler(10, 4, seed=0, start_step=2, steps=3)
        >>> len(whole), list(whole)[2] == list(resumed)[0]
        (3, True)
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        *,
        seed: int,
        start_step: int,
        steps: int,
        context: DistributedContext | None = None,
    ) -> None:
        context = context or DistributedContext()
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.start_step, self.steps, self.context = start_step, steps, context
        self.per_epoch = size // (batch_size * context.world_size)
        if self.per_epoch == 0:
            raise ValueError(
                f"the dataset has {size} videos, fewer than one batch of {batch_size} "
                f"per process ({context.world_size} processes)"
            )

    def __len__(self) -> int:
        return self.steps - self.start_step

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.steps):
            epoch, position = divmod(step, self.per_epoch)
            order = torch.randperm(
                self.size, generator=torch.Generator().manual_seed(self.seed + epoch)
            )
            shard = order[self.context.rank :: self.context.world_size]
            yield shard[position * self.batch_size : (position + 1) * self.batch_size].tolist()
