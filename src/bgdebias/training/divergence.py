"""Stop a run whose loss or weights stop being finite, before it writes a checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn


class TrainingDivergedError(RuntimeError):
    """The loss or the model's weights became infinite or NaN; no later checkpoint is written.

    Example:
        >>> from bgdebias.training import TrainingDivergedError
        >>> issubclass(TrainingDivergedError, RuntimeError)
        True
    """


class NonFiniteWatch:
    """Notes the first step whose loss was not finite, without waiting for the device.

    :meth:`observe` runs every step (a few tiny device operations, no synchronisation);
    :meth:`check` reads the result at log and checkpoint steps and raises.

    Args:
        device: The device of the losses.
        distributed: Agree across processes on the first bad step (all ranks raise).

    Example:
        >>> import torch
        >>> watch = NonFiniteWatch(torch.device("cpu"))
        >>> for step, loss in enumerate([0.5, float("nan"), 0.4], start=1):
        ...     watch.observe(torch.tensor(loss), step)
        >>> try:
        ...     watch.check(checkpoint=None, lr=1e9)
        ... except TrainingDivergedError as error:
        ...     print(error)  # doctest: +NORMALIZE_WHITESPACE
        training diverged: the loss was not finite at step 2 (no checkpoint was written);
        lower the learning rate (--lr, now 1000000000.0) or check the data
    """

    def __init__(self, device: torch.device, *, distributed: bool = False) -> None:
        self.first_bad = torch.zeros((), dtype=torch.long, device=device)
        self.distributed = distributed

    def observe(self, loss: Tensor, step: int) -> None:
        """Record ``step`` if ``loss`` is not finite and no earlier step was."""
        fresh = (self.first_bad == 0) & ~torch.isfinite(loss.detach())
        self.first_bad = torch.where(fresh, step, self.first_bad)

    def check(self, *, checkpoint: Path | None, lr: float) -> None:
        """Raise :class:`TrainingDivergedError` if a loss observed so far was not finite."""
        first_bad = self.first_bad.clone()
        if self.distributed:
            torch.distributed.all_reduce(first_bad, op=torch.distributed.ReduceOp.MAX)
        bad = int(first_bad.item())
        if bad:
            raise TrainingDivergedError(
                f"training diverged: the loss was not finite at step {bad} "
                f"({_kept(checkpoint)}); {_advice(lr)}"
            )


def check_finite_weights(
    model: nn.Module, *, step: int, checkpoint: Path | None, lr: float
) -> None:
    """Raise :class:`TrainingDivergedError` if a floating tensor of ``model``'s state is not finite.

    Catches runs whose loss stays finite while weights or batch-norm statistics overflow.

    Example:
        >>> import torch
        >>> layer = torch.nn.BatchNorm1d(2)
        >>> _ = layer.running_var.fill_(float("inf"))
        >>> try:
        ...     check_finite_weights(layer, step=8, checkpoint=None, lr=0.1)
        ... except TrainingDivergedError as error:
        ...     print(error)  # doctest: +NORMALIZE_WHITESPACE
        training diverged: 1 tensor(s) of the model hold inf or NaN at step 8 (first:
        running_var; no checkpoint was written); lower the learning rate (--lr, now 0.1) or
        check the data
    """
    bad = [
        name
        for name, tensor in model.state_dict().items()
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
    ]
    if bad:
        raise TrainingDivergedError(
            f"training diverged: {len(bad)} tensor(s) of the model hold inf or NaN at step "
            f"{step} (first: {bad[0]}; {_kept(checkpoint)}); {_advice(lr)}"
        )


def _kept(checkpoint: Path | None) -> str:
    if checkpoint is None:
        return "no checkpoint was written"
    return f"the last good checkpoint is {checkpoint}"


def _advice(lr: float) -> str:
    return f"lower the learning rate (--lr, now {lr}) or check the data"
