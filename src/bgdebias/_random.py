"""Where random numbers are drawn: on the generator's device, so that results do not depend
on the device of the data they are applied to."""

from __future__ import annotations

import hashlib

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


def stable_seed(*parts: int | str) -> int:
    """A 63-bit seed hashed from ``parts``, the same in every process and on every platform.

    Python's ``hash`` of a string changes between processes; this does not, so data loader
    workers and resumed runs draw the same video from the same parts.

    Args:
        parts: What identifies the draw (a dataset seed, a stream or epoch, an index).

    Returns:
        A seed for ``torch.Generator.manual_seed``, in ``[0, 2**63)``.

    Example:
        >>> stable_seed(0, "test", 3) == stable_seed(0, "test", 3)
        True
        >>> stable_seed(0, "train", 3) != stable_seed(0, "test", 3)
        True
    """
    text = "/".join(str(part) for part in parts)
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1
