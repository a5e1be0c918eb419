"""Body of the 2-process gloo test (a module of its own so that spawn can import it)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.distributed as dist

from bgdebias.moco import MemoryQueue, concat_all_gather

# Rows per rank for each enqueue: unequal across ranks, and 5 + 6 keys wrap a queue of 7.
BATCH_SIZES = ((3, 2), (2, 4))
QUEUE_SIZE = 7


def tagged_keys(rank: int, step: int, count: int) -> torch.Tensor:
    """Keys whose values say where they come from: ``(rank, step, index)``."""
    index = torch.arange(count, dtype=torch.float32)
    return torch.stack([torch.full_like(index, rank), torch.full_like(index, step), index], 1)


def run(rank: int, world_size: int, init_file: str, out_dir: str) -> None:
    dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size
    )
    try:
        torch.manual_seed(rank)  # different seeds: the initial queues must not matter
        queue = MemoryQueue(
            3, QUEUE_SIZE, generator=torch.Generator().manual_seed(0), normalize=False
        )
        gathered = concat_all_gather(tagged_keys(rank, 9, rank + 1))
        snapshots = []
        for step, sizes in enumerate(BATCH_SIZES):
            queue.enqueue(tagged_keys(rank, step, sizes[rank]))
            snapshots.append((queue.negatives, int(queue.pointer)))
        torch.save(
            {"gathered": gathered, "snapshots": snapshots},
            Path(out_dir) / f"rank{rank}.pt",
        )
    finally:
        dist.destroy_process_group()
