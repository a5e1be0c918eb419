"""Process-group setup from torchrun's environment, and MoCo's shuffle-BN."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

from bgdebias.moco import concat_all_gather, is_distributed


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in a (possibly single-process) run.

    Attributes:
        rank: Global rank (0 when not distributed).
        world_size: Number of processes (1 when not distributed).
        local_rank: Rank on this machine, used to pick the GPU.

    Example:
        >>> from bgdebias.training import DistributedContext
        >>> single = DistributedContext()
        >>> single.is_distributed, single.is_main
        (False, True)
        >>> DistributedContext(rank=1, world_size=2, local_rank=1).is_main
        False
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_distributed(self) -> bool:
        """More than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """This process is rank 0 (it logs and saves)."""
        return self.rank == 0


def init_distributed(device: torch.device) -> DistributedContext:
    """Join the process group that ``torchrun`` describes in the environment, if any.

    Uses NCCL on CUDA devices and Gloo otherwise. Without ``WORLD_SIZE`` > 1 in the
    environment nothing is initialised.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return DistributedContext(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )


def shuffle_across_ranks(batch: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """MoCo's batch shuffle: gather all ranks' inputs and take a random shard.

    Batch norm in the key encoder then sees a random mix of every rank's clips, so the
    per-rank statistics cannot leak which keys match which queries. Every rank must draw
    the same permutation: pass generators seeded identically on all ranks. A no-op (the
    identity permutation) outside distributed runs.

    Shape:
        batch ``(B, ...)`` -> shard ``(B, ...)`` and the permutation ``(world_size * B,)``.
    """
    if not is_distributed():
        return batch, torch.arange(batch.shape[0], device=batch.device)
    gathered = concat_all_gather(batch)
    permutation = torch.randperm(gathered.shape[0], generator=generator).to(batch.device)
    rank, size = dist.get_rank(), batch.shape[0]
    return gathered[permutation[rank * size : (rank + 1) * size]], permutation


def unshuffle_across_ranks(outputs: Tensor, permutation: Tensor) -> Tensor:
    """Undo :func:`shuffle_across_ranks` for the key encoder's outputs.

    Shape:
        outputs ``(B, ...)`` -> this rank's outputs in its original order ``(B, ...)``.
    """
    if not is_distributed():
        return outputs
    gathered = concat_all_gather(outputs)
    restored = torch.empty_like(gathered)
    restored[permutation] = gathered
    rank, size = dist.get_rank(), outputs.shape[0]
    return restored[rank * size : (rank + 1) * size]
