"""What every clip transform shares: the call protocol and the base of the random ones.

A clip transform takes one clip ``(C, T, H, W)`` or a batch ``(B, C, T, H, W)`` (channel at
dimension -4 in both) and is called as ``transform(clip, generator=None)``, so any of them
chain in :class:`~bgdebias.data.ClipCompose`. A random one draws its parameters per clip
from ``generator`` (on the generator's device, CPU without one; moved to the clip's device)
and applies them to all frames of the clip, so motion is never distorted.

Layouts: the type of the input says its layout. A plain tensor is a bgdebias clip,
``(C, T, H, W)`` or ``(B, C, T, H, W)``, and comes back as one. A ``tv_tensors.Video`` is
torchvision's video, ``(T, C, H, W)`` or ``(B, T, C, H, W)``, and comes back as a
``tv_tensors.Video`` in that layout, with the values and random draws of the same clip given
as ``(C, T, H, W)``; so the transforms also work inside ``torchvision.transforms.v2.Compose``
on videos. The channel dimension is checked (``channels=3`` by default), so a plain
``(T, C, H, W)`` tensor is refused with a message naming the swap.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

import torch
from torch import Tensor, nn

from bgdebias._validation import check_int, check_unit
from bgdebias.data.transforms._draws import bernoulli, per_clip
from bgdebias.data.transforms._input import check_channel_count, check_generator, read_clip_batch


class ClipTransform(Protocol):
    """A clip transform: ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in, same layout out.

    The transforms of bgdebias also take a ``tv_tensors.Video`` ``(..., T, C, H, W)`` and give
    back one in that layout (see the module notes).

    Example:
        >>> import torch
        >>> def reverse_time(clip, generator=None):  # a ClipTransform: play backwards
        ...     return clip.flip(-3)
        >>> clip = torch.arange(4.0).view(1, 4, 1, 1).expand(3, 4, 8, 8)  # frame t holds t
        >>> from bgdebias.data import CenterCropClip, ClipCompose
        >>> out = ClipCompose([reverse_time, CenterCropClip(4)])(clip)
        >>> out.shape, out[0, :, 0, 0].tolist()
        (torch.Size([3, 4, 4, 4]), [3.0, 2.0, 1.0, 0.0])
    """

    def __call__(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Transform ``clip``, drawing any randomness from ``generator``."""
        ...


ParamsT = TypeVar("ParamsT")


class RandomClipTransform(nn.Module, Generic[ParamsT]):
    """Base of the random clip transforms: a draw per clip, then a deterministic application.

    A subclass gives ``sample_params`` (its own arguments: the crop needs the frame size),
    ``_draw`` (``sample_params`` for a batch) and ``apply_params(clip, params)``; ``forward``
    checks the input and chains them, so ``forward(clip, generator)`` equals
    ``apply_params(clip, params)`` with the params drawn from the same generator.

    Args:
        channels: Number of channels a clip must have (``None``: any).
        rgb: Whether a ``tv_tensors.Video`` must be RGB (colour transforms).

    Example:
        >>> import torch
        >>> from bgdebias.data import RandomHorizontalFlipClip
        >>> flip = RandomHorizontalFlipClip(p=0.5)
        >>> isinstance(flip, RandomClipTransform)
        True
        >>> clips = torch.rand(4, 3, 2, 8, 8)
        >>> params = flip.sample_params(4, generator=torch.Generator().manual_seed(0))
        >>> out = flip(clips, generator=torch.Generator().manual_seed(0))
        >>> torch.equal(out, flip.apply_params(clips, params))  # forward = sample + apply
        True
    """

    def __init__(self, *, channels: int | None, rgb: bool = False) -> None:
        super().__init__()
        self.channels = check_channel_count(channels)
        self._rgb = rgb

    def _draw(self, batch: Tensor, generator: torch.Generator | None) -> ParamsT:
        """The parameters of every clip of ``batch`` ``(B, C, T, H, W)``."""
        raise NotImplementedError

    def apply_params(self, clip: Tensor, params: ParamsT) -> Tensor:
        """Transform ``clip`` with given parameters (deterministic)."""
        raise NotImplementedError

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Transform every clip with its own draw from ``generator``."""
        check_generator(generator)
        batch = read_clip_batch(clip, channels=self.channels, rgb=self._rgb).batch
        return self.apply_params(clip, self._draw(batch, generator))


class RandomSwitchClip(RandomClipTransform[Tensor]):
    """Base of the per-clip on/off transforms (flip, grayscale): ``params`` is a bool ``(B,)``.

    A subclass gives ``_transform_all`` (the transform of every clip of a batch); each clip
    keeps its input or takes the transformed values as its draw says.

    Args:
        p: Probability of transforming a clip.
        channels: Number of channels a clip must have (``None``: any).
        rgb: Whether a ``tv_tensors.Video`` must be RGB.
    """

    def __init__(self, p: float, *, channels: int | None, rgb: bool) -> None:
        super().__init__(channels=channels, rgb=rgb)
        self.p = check_unit(p, "p")

    def sample_params(self, num_clips: int, generator: torch.Generator | None = None) -> Tensor:
        """Which clips are transformed. Shape: ``(num_clips,)``, bool."""
        check_int(num_clips, "num_clips", minimum=1)
        return bernoulli(self.p, num_clips, generator)

    def _draw(self, batch: Tensor, generator: torch.Generator | None) -> Tensor:
        return self.sample_params(batch.shape[0], generator)

    def _transform_all(self, batch: Tensor) -> Tensor:
        raise NotImplementedError

    def apply_params(self, clip: Tensor, params: Tensor) -> Tensor:
        """Transform the clips where ``params`` is true. Shape: like ``clip``."""
        clips = read_clip_batch(clip, channels=self.channels, rgb=self._rgb)
        batch = clips.batch
        out = torch.where(per_clip(params, batch), self._transform_all(batch), batch)
        return clips.restore(out)

    def extra_repr(self) -> str:
        return f"p={self.p}"
