"""Run an encoder frozen: eval mode and no gradients, with every module's mode restored after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

#: What the evaluation protocols accept as an encoder: clips ``(B, C, T, H, W)`` to ``(B, D)``.
Encoder = Callable[[Tensor], Tensor]


@contextmanager
def frozen_encoder(encoder: Encoder) -> Iterator[None]:
    """Put ``encoder`` (when it is a module) in eval mode under ``torch.no_grad``.

    The training flag of every submodule is recorded and restored on exit, so a model with
    some submodules deliberately kept in eval mode (frozen batch norm) comes back unchanged.
    A plain callable is only run under ``torch.no_grad``: switch the modules it closes over
    yourself, or wrap them in a module (e.g. :class:`~bgdebias.evaluation.PooledFeatures`).

    Args:
        encoder: The encoder about to be evaluated.
    """
    modules = list(encoder.modules()) if isinstance(encoder, nn.Module) else []
    modes = [module.training for module in modules]
    try:
        if isinstance(encoder, nn.Module):
            encoder.eval()
        with torch.no_grad():
            yield
    finally:
        for module, mode in zip(modules, modes, strict=True):
            module.training = mode  # per module: `train(mode)` would recurse into children


def encoder_device(encoder: Encoder) -> torch.device:
    """The device of the encoder's first parameter or buffer; the CPU when it has none."""
    if isinstance(encoder, nn.Module):
        for parameter in encoder.parameters():
            return parameter.device
        for buffer in encoder.buffers():
            return buffer.device
    return torch.device("cpu")
