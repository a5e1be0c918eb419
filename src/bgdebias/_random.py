"""Where random numbers are drawn: on the generator's device, so that results do not depend
on the device of the data they are applied to."""

from __future__ import annotations

import torch


def draw_device(generator: torch.Generator | None) -> torch.device:
    """The device to draw random numbers on: the generator's, or the CPU without one.

    Draws happen there and are then moved to the data, so a seeded CPU generator gives the
    same numbers whether the data sits on the CPU or on a GPU (a CUDA generator draws on
    its own GPU).

    Args:
        generator: The generator passed by the caller, or ``None`` for torch's default
            (CPU) generator.

    Returns:
        ``generator.device``, or ``cpu`` when ``generator`` is ``None``.

    Example:
        >>> draw_device(None)
        device(type='cpu')
        >>> draw_device(torch.Generator(device="cpu"))
        device(type='cpu')
    """
    return generator.device if generator is not None else torch.device("cpu")
