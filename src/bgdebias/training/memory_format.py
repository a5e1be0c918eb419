"""Channels-last storage of a model's 3D convolutions."""

from __future__ import annotations

import torch
from torch import nn


def convolutions_to_channels_last(model: nn.Module) -> int:
    """Store the weights of every ``nn.Conv3d`` in ``model`` as ``torch.channels_last_3d``.

    A convolution whose weight is channels-last computes in that layout whatever the
    layout of its input (oneDNN on CPUs, cuDNN on GPUs), and its output comes out
    channels-last, which the following convolutions keep. Parameters stay the same
    objects (an optimiser built before keeps them); values do not change.

    Args:
        model: Any module; modules other than ``nn.Conv3d`` are left as they are.

    Returns:
        How many convolutions were converted.

    Example:
        >>> import torch
        >>> from bgdebias.training import convolutions_to_channels_last
        >>> model = torch.nn.Sequential(torch.nn.Conv3d(3, 4, 3), torch.nn.ReLU())
        >>> convolutions_to_channels_last(model)
        1
        >>> model[0].weight.is_contiguous(memory_format=torch.channels_last_3d)
        True
    """
    converted = 0
    for module in model.modules():
        if isinstance(module, nn.Conv3d):
            module.to(memory_format=torch.channels_last_3d)
            converted += 1
    return converted
