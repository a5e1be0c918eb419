"""How a clip transform reads its input: the layout its type means, its channels, a generator.

bgdebias keeps clips channels first, ``(C, T, H, W)`` or ``(B, C, T, H, W)`` (the layout video
networks take); torchvision keeps videos frames first, ``tv_tensors.Video`` of shape
``(..., T, C, H, W)``. A plain tensor carries no layout, so it is read the bgdebias way; a
``tv_tensors.Video`` says what it is, so it is read torchvision's way and the result is given
back as a ``tv_tensors.Video`` in that layout. Either way the transform works on the plain
``(B, C, T, H, W)`` batch, so both inputs get the same random draws and the same values.

The channel dimension is checked, so that a tensor in the other layout is refused with a
message naming the likely swap instead of being transformed with its frames read as channels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torchvision import tv_tensors

from bgdebias._validation import check_int, check_number, check_tensor


@dataclass(frozen=True)
class ClipBatch:
    """A transform's input as a plain batch ``(B, C, T, H, W)``, and how to give results back.

    Attributes:
        batch: The clips, a plain tensor (a view of the input). Shape: ``(B, C, T, H, W)``.
        single: Whether the input was one clip without a batch dimension.
        video: The input if it was a ``tv_tensors.Video``, else ``None``.
        name: Argument name used in error messages.
        input_shape: Shape of the input as given.
    """

    batch: Tensor
    single: bool
    video: tv_tensors.Video | None
    name: str
    input_shape: tuple[int, ...]

    @property
    def layout(self) -> str:
        """The layout the input was read in, e.g. ``"(B, T, C, H, W)"``."""
        order = "T, C" if self.video is not None else "C, T"
        return f"({order}, H, W)" if self.single else f"(B, {order}, H, W)"

    def channel_error(self, expected: int, summary: str, *, option: bool) -> ValueError:
        """The error for a channel dimension that does not hold ``expected``.

        Args:
            expected: The channel count the transform needs.
            summary: The first words of the message (what is wrong).
            option: Whether the transform has a ``channels`` option to suggest.
        """
        found, frames = self.batch.shape[1], self.batch.shape[2]
        message = f"{summary} (dimension C of {self.layout}, shape {self.input_shape})"
        if frames == expected and self.video is None:
            swapped = "(T, C, H, W)" if self.single else "(B, T, C, H, W)"
            message += (
                f"; dimension T holds {expected}, so this looks like a {swapped} tensor: give "
                f"`{self.name}.transpose(-4, -3)` instead, or wrap it as "
                "`torchvision.tv_tensors.Video` (read as (..., T, C, H, W))"
            )
        elif frames == expected:
            message += (
                f"; dimension T holds {expected}, so this looks like (C, T, H, W) data wrapped "
                f"as a tv_tensors.Video: give the plain tensor instead, or wrap "
                f"`{self.name}.transpose(-4, -3)`"
            )
        if option:
            message += f"; pass `channels={found}` if the clip really has {found} channels"
        return ValueError(message)

    def check_channels(self, expected: int | None, *, rgb: bool = False) -> None:
        """Raise ``ValueError`` unless the channel dimension holds ``expected`` (None: any)."""
        if expected is None or self.batch.shape[1] == expected:
            return
        what = f"{expected} (RGB)" if rgb else f"{expected}"
        summary = f"`{self.name}` must have {what} channels, got {self.batch.shape[1]}"
        raise self.channel_error(expected, summary, option=not rgb)

    def restore(self, out: Tensor) -> Tensor:
        """Give a result ``(B, C, T, H', W')`` back in the input's form (Video or plain)."""
        if self.single:
            out = out[0]
        if self.video is None:
            return out
        video: Tensor = out.transpose(-4, -3).contiguous().as_subclass(type(self.video))
        return video


def read_clip_batch(
    clip: object, name: str = "clip", *, channels: int | None = None, rgb: bool = False
) -> ClipBatch:
    """Read a plain ``(C, T, H, W)``/``(B, C, T, H, W)`` tensor or a ``tv_tensors.Video``.

    Args:
        clip: The transform's input.
        name: Argument name used in error messages.
        channels: Channel count to require (``None``: any).
        rgb: Say "RGB" in the channel message (colour transforms, no ``channels`` option).

    Returns:
        The plain batch and what :meth:`ClipBatch.restore` needs. Shape: ``(B, C, T, H, W)``.

    Raises:
        TypeError: If ``clip`` is not a tensor.
        ValueError: If it is neither 4D nor 5D, has an empty dimension, or has the wrong
            number of channels.
    """
    tensor = check_tensor(clip, name)
    video = tensor if isinstance(tensor, tv_tensors.Video) else None
    if tensor.ndim not in (4, 5):
        if video is not None:
            raise ValueError(
                f"`{name}` is a tv_tensors.Video, read as (T, C, H, W) or (B, T, C, H, W), "
                f"got {tensor.ndim}D with shape {tuple(tensor.shape)}"
            )
        raise ValueError(
            f"`{name}` must be a clip of shape (C, T, H, W) or a batch of shape "
            f"(B, C, T, H, W), got {tensor.ndim}D with shape {tuple(tensor.shape)}"
        )
    if tensor.numel() == 0:
        raise ValueError(f"`{name}` must not have an empty dimension, got {tuple(tensor.shape)}")
    plain = tensor.as_subclass(Tensor).transpose(-4, -3) if video is not None else tensor
    single = tensor.ndim == 4
    batch = plain.unsqueeze(0) if single else plain
    clips = ClipBatch(batch, single, video, name, tuple(tensor.shape))
    clips.check_channels(channels, rgb=rgb)
    return clips


def check_channel_count(channels: object) -> int | None:
    """Check a ``channels`` option: an int >= 1, or ``None`` for any count."""
    return None if channels is None else check_int(channels, "channels", minimum=1)


def check_generator(generator: object) -> torch.Generator | None:
    """Return ``generator`` if it is a ``torch.Generator`` or ``None``, else raise ``TypeError``.

    A transform called as ``transform(video, label)`` (torchvision's ``v2.Compose`` unpacks a
    sample of several items that way) would otherwise take the label for the generator.
    """
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    raise TypeError(
        f"`generator` must be a torch.Generator or None, got {type(generator).__name__}; "
        "clip transforms take one clip per call: inside torchvision's v2.Compose, pass the "
        "video alone, not a (video, label) sample"
    )


def pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    """An output size ``(height, width)`` from an int or a pair of ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = check_int(value, name, minimum=1)
        return size, size
    if isinstance(value, Sequence) and len(value) == 2:
        return check_int(value[0], name, minimum=1), check_int(value[1], name, minimum=1)
    raise TypeError(f"`{name}` must be an int or a pair (height, width) of ints, got {value!r}")


def check_interval(
    value: Sequence[float], name: str, *, minimum: float, maximum: float = math.inf
) -> tuple[float, float]:
    """A pair ``(low, high)`` with ``minimum <= low <= high <= maximum``."""
    if not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"`{name}` must be a pair (low, high), got {value!r}")
    low, high = check_number(value[0], name), check_number(value[1], name)
    if not minimum <= low <= high <= maximum:
        raise ValueError(
            f"`{name}` must satisfy {minimum} <= low <= high <= {maximum}, got {tuple(value)!r}"
        )
    return low, high


def as_clip_batch(clip: object, name: str = "clip") -> tuple[Tensor, bool]:
    """View a clip ``(C, T, H, W)`` or a batch ``(B, C, T, H, W)`` as a batch.

    A ``tv_tensors.Video`` ``(T, C, H, W)`` or ``(B, T, C, H, W)`` is read in its own layout
    and viewed as the plain ``(B, C, T, H, W)`` batch. The channel count is not checked.

    Args:
        clip: The tensor to check.
        name: Argument name used in error messages.

    Returns:
        ``(batch, single)``: the 5D view and whether the input was one 4D clip (undo with
        ``batch[0]`` for a plain tensor). Shape: ``(B, C, T, H, W)``.

    Raises:
        TypeError: If ``clip`` is not a tensor.
        ValueError: If it is neither 4D nor 5D, or has an empty dimension.

    Example:
        >>> import torch
        >>> from bgdebias.data.functional import as_clip_batch
        >>> batch, single = as_clip_batch(torch.zeros(3, 4, 8, 8))
        >>> batch.shape, single
        (torch.Size([1, 3, 4, 8, 8]), True)
    """
    clips = read_clip_batch(clip, name)
    return clips.batch, clips.single
