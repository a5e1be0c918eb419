"""Gather tensors from every process of a ``torch.distributed`` run."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

from bgdebias._validation import check_tensor


def is_distributed() -> bool:
    """Whether a process group with more than one process is initialised.

    Example:
        >>> from bgdebias.moco import is_distributed
        >>> is_distributed()  # a plain process (or a group of one): nothing to gather
        False
    """
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@torch.no_grad()
def concat_all_gather(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` from every rank along dimension 0, in rank order.

    Ranks may hold different numbers of rows (e.g. the last, smaller batch of an epoch):
    the row counts are gathered first and every rank pads to the largest count before the
    ``all_gather``, so the result holds exactly the real rows of rank 0, then rank 1, ...,
    identical on every rank. The trailing dimensions and the dtype must agree across ranks,
    and every rank must call it (it is a collective operation).

    Outside a distributed run (``torch.distributed`` unavailable, not initialised, or world
    size 1) the input comes back detached (same storage, no copy). The result never carries
    a gradient (like MoCo's ``concat_all_gather``): use it for keys, never for queries.

    Args:
        tensor: This rank's rows. With NCCL it must live on this rank's GPU.

    Returns:
        All ranks' rows. Shape: ``(sum of the ranks' N, ...)``.

    Shape:
        ``(N, ...)`` -> ``(N_0 + N_1 + ... + N_{world_size - 1}, ...)``.

    Example:
        >>> import torch
        >>> from bgdebias.moco import concat_all_gather
        >>> keys = torch.zeros(4, 8, requires_grad=True)
        >>> gathered = concat_all_gather(keys)  # not distributed: the input, detached
        >>> gathered.shape, gathered.requires_grad, gathered.data_ptr() == keys.data_ptr()
        (torch.Size([4, 8]), False, True)
    """
    check_tensor(tensor, "tensor")
    if tensor.ndim == 0:
        raise ValueError("`tensor` must have at least 1 dimension (the rows to gather), got 0D")
    if not is_distributed():
        return tensor.detach()
    world_size = dist.get_world_size()
    local = tensor.detach().contiguous()
    count = torch.tensor([local.shape[0]], dtype=torch.long, device=local.device)
    counts = [torch.empty_like(count) for _ in range(world_size)]
    dist.all_gather(counts, count)
    sizes = [int(c.item()) for c in counts]
    longest = max(sizes)
    if local.shape[0] < longest:
        padding = local.new_zeros((longest - local.shape[0], *local.shape[1:]))
        local = torch.cat([local, padding])
    gathered = [torch.empty_like(local) for _ in range(world_size)]
    dist.all_gather(gathered, local)
    return torch.cat([part[:size] for part, size in zip(gathered, sizes, strict=True)])
