"""Normalise one forward pass with the batch-norm statistics of another.

The recipe encodes its motionless hard negatives (a clip's background, a frozen frame) from
one frame each, apart from the ordinary keys. A separate batch of still clips would be
normalised by its own statistics, and batch norm alone would then tell the negatives from
ordinary clips. Instead, the pass over the ordinary keys records the statistics each
batch-norm layer normalises with, and the pass over the still clips reuses them, so both
are normalised alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

#: Per batch-norm layer (by its name in the module): the batch's mean and biased variance
#: over every dimension but the channels, in at least float32.
BatchStatistics = dict[str, tuple[Tensor, Tensor]]


def _training_batch_norms(module: nn.Module) -> dict[str, _BatchNorm]:
    """The batch-norm layers of ``module`` that normalise with batch statistics."""
    layers = {}
    for name, layer in module.named_modules():
        if not isinstance(layer, _BatchNorm) or not layer.training:
            continue
        if isinstance(layer, nn.SyncBatchNorm):
            raise ValueError(
                f"batch statistics cannot be recorded for SyncBatchNorm layer {name!r}: it "
                "normalises with statistics gathered across processes; use BatchNorm "
                "(e.g. batchnorm='shuffle') or encode every clip in one batch"
            )
        layers[name] = layer
    return layers


@contextmanager
def record_batch_statistics(module: nn.Module) -> Iterator[BatchStatistics]:
    """Record the statistics every training-mode batch-norm layer normalises with.

    Inside the block, each forward of ``module`` fills the yielded mapping; the layers
    themselves behave as usual (they normalise with the batch and update their running
    statistics). Layers in evaluation mode normalise with their running statistics and are
    not recorded. A layer that runs twice in the block is refused.

    Args:
        module: Any module, e.g. an encoder in training mode.

    Returns:
        A context manager that yields a mapping, filled as the layers run: layer name ->
        ``(mean, variance)`` of the batch it normalised, each of shape ``(C,)``, detached,
        in float32 (float64 for float64 inputs).

    Raises:
        ValueError: If ``module`` holds a ``SyncBatchNorm`` in training mode, or if a
            layer runs more than once.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from bgdebias.models import record_batch_statistics
        >>> model = nn.Sequential(nn.Conv3d(1, 2, 1), nn.BatchNorm3d(2))
        >>> x = torch.arange(8.0).view(1, 1, 2, 2, 2)
        >>> with record_batch_statistics(model) as statistics:
        ...     _ = model(x)
        >>> mean, variance = statistics["1"]
        >>> mean.shape, variance.shape
        (torch.Size([2]), torch.Size([2]))
    """
    layers = _training_batch_norms(module)
    statistics: BatchStatistics = {}

    def recorder(name: str) -> Callable[[nn.Module, tuple[Tensor, ...]], None]:
        def hook(_layer: nn.Module, inputs: tuple[Tensor, ...]) -> None:
            if name in statistics:
                raise ValueError(
                    f"batch-norm layer {name!r} ran twice while its statistics were "
                    "recorded; record one forward pass at a time"
                )
            x = inputs[0].detach()
            x = x if x.dtype == torch.float64 else x.float()
            dims = [d for d in range(x.ndim) if d != 1]
            variance, mean = torch.var_mean(x, dim=dims, unbiased=False)
            statistics[name] = (mean, variance)

        return hook

    handles = [layer.register_forward_pre_hook(recorder(name)) for name, layer in layers.items()]
    try:
        yield statistics
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def normalise_with(module: nn.Module, statistics: BatchStatistics) -> Iterator[None]:
    """Make the recorded batch-norm layers normalise with ``statistics``, inside the block.

    Each layer named in ``statistics`` normalises as in evaluation mode, with the recorded
    mean and variance in place of its running statistics, and updates nothing; on leaving
    the block its mode and running statistics are restored. Layers not recorded behave as
    usual.

    Args:
        module: The module whose statistics were recorded by
            :func:`record_batch_statistics`.
        statistics: What :func:`record_batch_statistics` yielded.

    Returns:
        A context manager (it yields nothing).

    Raises:
        ValueError: If ``statistics`` names a layer that ``module`` does not hold, or one
            whose channel count differs.

    Example:
        A batch normalised with its own recorded statistics gives what training-mode batch
        norm gave it:

        >>> import torch
        >>> from torch import nn
        >>> from bgdebias.models import normalise_with, record_batch_statistics
        >>> norm = nn.BatchNorm1d(3)
        >>> x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
        >>> with record_batch_statistics(norm) as statistics:
        ...     trained = norm(x)
        >>> with normalise_with(norm, statistics):
        ...     again = norm(x)
        >>> torch.allclose(trained, again, atol=1e-5), norm.training
        (True, True)
    """
    layers = dict(module.named_modules())
    saved = []
    try:
        for name, (mean, variance) in statistics.items():
            layer = layers.get(name)
            if not isinstance(layer, _BatchNorm):
                raise ValueError(
                    f"`statistics` names {name!r}, which is not a batch-norm layer of the module"
                )
            if mean.shape != (layer.num_features,):
                raise ValueError(
                    f"`statistics[{name!r}]` holds {tuple(mean.shape)} values, but layer "
                    f"{name!r} has {layer.num_features} channels"
                )
            saved.append((layer, layer.training, layer.running_mean, layer.running_var))
            dtype = layer.weight.dtype if layer.weight is not None else mean.dtype
            layer.training = False
            layer.running_mean = mean.to(dtype)
            layer.running_var = variance.to(dtype)
        yield
    finally:
        for layer, training, running_mean, running_var in reversed(saved):
            layer.training = training
            layer.running_mean = running_mean
            layer.running_var = running_var
