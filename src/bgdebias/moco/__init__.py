"""MoCo parts: the negative key queue, the momentum encoder, projection heads, gathering.

Assemble them as in MoCo v2: a query encoder (backbone + :class:`ProjectionHead`), its
:func:`momentum_copy` as key encoder updated by :func:`update_momentum` with a
:func:`cosine_momentum` schedule, and a :class:`MemoryQueue` of negative keys.
"""

from bgdebias.moco.distributed import concat_all_gather, is_distributed
from bgdebias.moco.heads import ProjectionHead
from bgdebias.moco.momentum import cosine_momentum, momentum_copy, update_momentum
from bgdebias.moco.queue import MemoryQueue

__all__ = [
    "MemoryQueue",
    "ProjectionHead",
    "concat_all_gather",
    "cosine_momentum",
    "is_distributed",
    "momentum_copy",
    "update_momentum",
]
