"""Turn a device name of the configuration into a ``torch.device``."""

from __future__ import annotations

import torch


def pick_device(name: str) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU; other names are torch's own.

    Args:
        name: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or any name torch accepts.

    Returns:
        The device.

    Example:
        >>> from bgdebias.training.device import pick_device
        >>> pick_device("cpu")
        device(type='cpu')
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
