"""MoCo's queue of negative keys, as a module whose state survives checkpoints."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bgdebias._validation import check_floating, check_int, check_ndim, check_tensor
from bgdebias.moco.distributed import concat_all_gather


class MemoryQueue(nn.Module):
    """A first-in first-out queue of ``size`` key embeddings, the negatives of MoCo.

    The queue starts, as in MoCo, with random unit vectors (``randn`` rows, L2-normalised),
    and every :meth:`enqueue` overwrites the oldest rows. Both the queue and the write
    pointer are buffers, so they are part of ``state_dict()``: a resumed run continues with
    exactly the same negatives and write position. ``.to(device, dtype)`` moves and casts
    the queue like any module (the pointer stays ``int64``).

    Writes wrap around: key ``i`` of a batch goes to row ``(pointer + i) % size``, so a
    queue size that is not a multiple of the batch size loses no key, and a batch larger
    than the queue leaves its newest ``size`` keys. By default :meth:`enqueue` L2-normalises
    each key (in at least float32, then casts it to the queue's dtype; a zero key stays
    zero), so the queue holds unit vectors like its initial rows, which is what InfoNCE
    compares against; ``normalize=False`` stores the keys as given.

    Under ``torch.distributed`` with more than one process, :meth:`enqueue` first gathers
    the keys of every rank (rank 0's first; unequal batch sizes allowed), so every rank
    holds the same queue; every rank must then call :meth:`enqueue` at the same step (it is
    a collective operation). Otherwise nothing is gathered.

    Args:
        dim: Dimension of each key.
        size: Number of keys held.
        generator: Random source of the initial keys.
        device: Device of the queue.
        dtype: Floating dtype of the queue (default: the default dtype).
        normalize: L2-normalise the keys in :meth:`enqueue` (``F.normalize`` along ``dim``,
            whose ``eps`` maps a zero key to zero). ``False`` stores them unchanged, e.g.
            for a loss that needs the raw embeddings.

    Shape:
        :meth:`enqueue` keys ``(B, dim)``; :attr:`negatives` ``(size, dim)``.

    Example:
        >>> queue = MemoryQueue(128, 4096)
        >>> keys = torch.randn(32, 128)  # e.g. the key encoder's output
        >>> negatives = queue.negatives  # use them in the loss, then:
        >>> queue.enqueue(keys)  # stored L2-normalised
        >>> bool(torch.allclose(queue.negatives.norm(dim=1), torch.ones(4096)))
        True
    """

    queue: Tensor
    pointer: Tensor

    def __init__(
        self,
        dim: int,
        size: int,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        self.size = check_int(size, "size", minimum=1)
        self.normalize = bool(normalize)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"`dtype` must be a floating-point dtype, got {dtype}")
        keys = torch.randn(size, dim, generator=generator, dtype=dtype)
        self.register_buffer("queue", F.normalize(keys, dim=1).to(device))
        self.register_buffer("pointer", torch.zeros((), dtype=torch.long, device=device))

    @property
    def negatives(self) -> Tensor:
        """A detached copy of the queued keys, in storage order.

        A copy, so that enqueueing after the loss is computed (and before ``backward``)
        does not modify a tensor that autograd saved. Rows are in storage order, not age
        order: the oldest row, written next, is row ``int(queue.pointer)``.

        Shape: ``(size, dim)``.
        """
        return self.queue.detach().clone()

    @torch.no_grad()
    def enqueue(self, keys: Tensor) -> None:
        """Write a batch of keys (from every rank when distributed) over the oldest rows.

        Args:
            keys: Key embeddings; detached, L2-normalised unless the queue was built with
                ``normalize=False``, and cast to the queue's dtype and device.

        Shape:
            keys ``(B, dim)``; under ``torch.distributed`` the gathered ``(sum of B, dim)``.
        """
        check_tensor(keys, "keys")
        check_ndim(keys, "keys", 2, "(B, dim)")
        check_floating(keys, "keys")
        if keys.shape[1] != self.dim:
            raise ValueError(
                f"`keys` must have shape (B, {self.dim}) to match the queue's dim={self.dim}, "
                f"got {tuple(keys.shape)}"
            )
        keys = concat_all_gather(keys.detach())
        count = keys.shape[0]
        if count == 0:
            return
        keep = min(count, self.size)
        offsets = torch.arange(count - keep, count, device=self.queue.device)
        rows = (self.pointer + offsets) % self.size
        kept = keys[count - keep :]
        if self.normalize:
            # In at least float32, like the loss, whatever the keys' dtype.
            kept = F.normalize(kept.to(torch.promote_types(kept.dtype, torch.float32)), dim=1)
        self.queue.index_copy_(0, rows, kept.to(self.queue))
        self.pointer.copy_((self.pointer + count) % self.size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, size={self.size}, normalize={self.normalize}"
