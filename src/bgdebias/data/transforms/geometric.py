"""Geometric clip transforms: random resized crop, horizontal flip, resize, centre crop.

Every clip of a batch draws its own box or flip; all frames of a clip share it, so motion
is never distorted. Each random transform splits into ``sample_params`` (a small dataclass
of per-clip values) and ``apply_params(clip, params)`` (deterministic); see
:class:`~bgdebias.data.transforms.base.RandomClipTransform`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torchvision.transforms.v2.functional as TF
from torch import Tensor, nn

from bgdebias._validation import check_int
from bgdebias.data.transforms._draws import uniform
from bgdebias.data.transforms._input import (
    check_channel_count,
    check_generator,
    check_interval,
    pair,
    read_clip_batch,
)
from bgdebias.data.transforms.base import RandomClipTransform, RandomSwitchClip


@dataclass(frozen=True)
class CropParams:
    """Per-clip crop boxes, in input pixels.

    Attributes:
        top: First row of each box. Shape: ``(B,)``, int64.
        left: First column. Shape: ``(B,)``, int64.
        height: Box height. Shape: ``(B,)``, int64.
        width: Box width. Shape: ``(B,)``, int64.

    Example:
        >>> import torch
        >>> crop = RandomResizedCropClip(16, scale=(0.25, 0.25), ratio=(1.0, 1.0))
        >>> params = crop.sample_params(3, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> params.height.tolist(), params.width.tolist()  # a quarter of 32 x 32, square
        ([16, 16, 16], [16, 16, 16])
        >>> bool(((params.top + params.height <= 32) & (params.left + params.width <= 32)).all())
        True
    """

    top: Tensor
    left: Tensor
    height: Tensor
    width: Tensor


class RandomResizedCropClip(RandomClipTransform[CropParams]):
    """Crop a random box of each clip (same box on every frame) and resize it to ``size``.

    The box is drawn as torchvision's ``RandomResizedCrop``: area fraction uniform in
    ``scale``, log aspect ratio uniform in ``log(ratio)``, ten tries, then a centre crop of
    the clamped ratio. Resizing is bilinear with antialiasing, one clip at a time (boxes
    differ in size).

    Args:
        size: Output ``(height, width)``, or one int for a square.
        scale: Range of the box area as a fraction of the frame (default ``(0.2, 1.0)``, the
            MoCo v2 choice, more conservative than torchvision's ``(0.08, 1.0)``).
        ratio: Range of the box aspect ratio width / height.
        channels: Number of channels a clip must have (``None``: any).

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in; ``(..., C, T, size[0], size[1])`` out. A
        ``tv_tensors.Video`` ``(..., T, C, H, W)`` in; ``(..., T, C, size[0], size[1])`` out.

    Example:
        >>> import torch
        >>> crop = RandomResizedCropClip(16)
        >>> frame = torch.rand(2, 3, 1, 40, 48, generator=torch.Generator().manual_seed(0))
        >>> clips = frame.expand(2, 3, 4, 40, 48)  # 2 clips of 4 equal frames each
        >>> out = crop(clips, generator=torch.Generator().manual_seed(0))
        >>> out.shape, bool((out == out[:, :, :1]).all())  # one box per clip, on every frame
        (torch.Size([2, 3, 4, 16, 16]), True)
        >>> params = crop.sample_params(2, 40, 48, generator=torch.Generator().manual_seed(0))
        >>> torch.equal(crop.apply_params(clips, params), out)  # forward = sample + apply
        True
        >>> from torchvision import tv_tensors
        >>> videos = tv_tensors.Video(clips.transpose(1, 2))  # the same clips, (B, T, C, H, W)
        >>> out_video = crop(videos, generator=torch.Generator().manual_seed(0))
        >>> type(out_video).__name__, out_video.shape  # a Video in its own layout
        ('Video', torch.Size([2, 4, 3, 16, 16]))
        >>> torch.allclose(out_video, out.transpose(1, 2))  # the same boxes
        True
    """

    def __init__(
        self,
        size: int | tuple[int, int],
        *,
        scale: tuple[float, float] = (0.2, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        channels: int | None = 3,
    ) -> None:
        super().__init__(channels=channels)
        self.size = pair(size, "size")
        self.scale = check_interval(scale, "scale", minimum=0.0, maximum=1.0)
        if self.scale[1] == 0.0:
            raise ValueError(f"`scale` must allow a non-empty box, got {scale!r}")
        self.ratio = check_interval(ratio, "ratio", minimum=0.0)
        if self.ratio[0] == 0.0:
            raise ValueError(f"`ratio` must be > 0, got {ratio!r}")

    def sample_params(
        self,
        num_clips: int,
        height: int,
        width: int,
        generator: torch.Generator | None = None,
    ) -> CropParams:
        """Draw one box per clip for frames of ``height`` x ``width``."""
        check_int(num_clips, "num_clips", minimum=1)
        tries = 10
        area = height * width
        target = area * uniform(*self.scale, (num_clips, tries), generator)
        log_low, log_high = math.log(self.ratio[0]), math.log(self.ratio[1])
        aspect = torch.exp(uniform(log_low, log_high, (num_clips, tries), generator))
        w = torch.round(torch.sqrt(target * aspect)).long()
        h = torch.round(torch.sqrt(target / aspect)).long()
        valid = (w > 0) & (w <= width) & (h > 0) & (h <= height)
        first = valid.long().argmax(dim=1, keepdim=True)
        found = valid.any(dim=1)
        h, w = h.gather(1, first).squeeze(1), w.gather(1, first).squeeze(1)
        # Fallback (as torchvision): whole frame cropped to the nearest allowed ratio.
        in_ratio = width / height
        if in_ratio < self.ratio[0]:
            fallback = (round(width / self.ratio[0]), width)
        elif in_ratio > self.ratio[1]:
            fallback = (height, round(height * self.ratio[1]))
        else:
            fallback = (height, width)
        h = torch.where(found, h, torch.full_like(h, fallback[0])).cpu()
        w = torch.where(found, w, torch.full_like(w, fallback[1])).cpu()
        u = uniform(0.0, 1.0, (2, num_clips), generator).cpu()
        top_random = torch.floor(u[0] * (height - h + 1)).long()
        left_random = torch.floor(u[1] * (width - w + 1)).long()
        found = found.cpu()
        top = torch.where(found, top_random, (height - h) // 2)
        left = torch.where(found, left_random, (width - w) // 2)
        return CropParams(top=top, left=left, height=h, width=w)

    def apply_params(self, clip: Tensor, params: CropParams) -> Tensor:
        """Crop and resize with given boxes. Shape: as :meth:`forward`."""
        clips = read_clip_batch(clip, channels=self.channels)
        boxes = zip(
            params.top.tolist(),
            params.left.tolist(),
            params.height.tolist(),
            params.width.tolist(),
            strict=True,
        )
        out = torch.stack(
            [
                TF.resized_crop(one, top, left, h, w, list(self.size), antialias=True)
                for one, (top, left, h, w) in zip(clips.batch, boxes, strict=True)
            ]
        )
        return clips.restore(out)

    def _draw(self, batch: Tensor, generator: torch.Generator | None) -> CropParams:
        return self.sample_params(batch.shape[0], batch.shape[-2], batch.shape[-1], generator)

    def extra_repr(self) -> str:
        return f"size={self.size}, scale={self.scale}, ratio={self.ratio}, channels={self.channels}"


class RandomHorizontalFlipClip(RandomSwitchClip):
    """Mirror each clip left-right (all its frames) with probability ``p``.

    Args:
        p: Probability of flipping a clip.
        channels: Number of channels a clip must have (``None``: any).

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in and out, any dtype; a ``tv_tensors.Video``
        ``(..., T, C, H, W)`` in and out.

    Example:
        >>> import torch
        >>> flip = RandomHorizontalFlipClip(p=0.5)
        >>> flipped = flip.sample_params(4, generator=torch.Generator().manual_seed(0))
        >>> flipped.tolist()  # drawn per clip
        [True, False, True, True]
        >>> clips = torch.arange(8.0).expand(4, 3, 2, 8, 8)  # each pixel holds its column
        >>> flip.apply_params(clips, flipped)[:, 0, 0, 0, 0].tolist()  # column 0 after the flip
        [7.0, 0.0, 7.0, 7.0]
    """

    def __init__(self, *, p: float = 0.5, channels: int | None = 3) -> None:
        super().__init__(p, channels=channels, rgb=False)

    def _transform_all(self, batch: Tensor) -> Tensor:
        return batch.flip(-1)

    def extra_repr(self) -> str:
        return f"p={self.p}, channels={self.channels}"


class ResizeShortSideClip(nn.Module):
    """Resize every frame so that its shorter side is ``size`` (aspect kept, antialiased).

    Args:
        size: Target length of the shorter side in pixels.
        channels: Number of channels a clip must have (``None``: any).

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in and out (new H, W); a ``tv_tensors.Video``
        ``(..., T, C, H, W)`` in and out.

    Example:
        >>> import torch
        >>> resize = ResizeShortSideClip(16)
        >>> resize(torch.rand(3, 4, 24, 48)).shape  # 24 x 48 -> 16 x 32: the aspect is kept
        torch.Size([3, 4, 16, 32])
        >>> resize(torch.rand(2, 3, 4, 40, 20)).shape  # a batch; the width is the short side
        torch.Size([2, 3, 4, 32, 16])
    """

    def __init__(self, size: int, *, channels: int | None = 3) -> None:
        super().__init__()
        self.size = check_int(size, "size", minimum=1)
        self.channels = check_channel_count(channels)

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Resize ``clip``; ``generator`` is unused."""
        check_generator(generator)
        clips = read_clip_batch(clip, channels=self.channels)
        out: Tensor = TF.resize(clips.batch, [self.size], antialias=True)
        return clips.restore(out)

    def extra_repr(self) -> str:
        return f"size={self.size}, channels={self.channels}"


class CenterCropClip(nn.Module):
    """Crop the centre ``size`` of every frame (zero-padded if the frame is smaller).

    Args:
        size: Output ``(height, width)``, or one int for a square.
        channels: Number of channels a clip must have (``None``: any).

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in and out (new H, W); a ``tv_tensors.Video``
        ``(..., T, C, H, W)`` in and out.

    Example:
        >>> import torch
        >>> clip = torch.arange(32.0).expand(3, 4, 16, 32)  # each pixel holds its column
        >>> out = CenterCropClip(16)(clip)
        >>> out.shape, out[0, 0, 0, [0, -1]].tolist()  # columns 8 to 23 are kept
        (torch.Size([3, 4, 16, 16]), [8.0, 23.0])
    """

    def __init__(self, size: int | tuple[int, int], *, channels: int | None = 3) -> None:
        super().__init__()
        self.size = pair(size, "size")
        self.channels = check_channel_count(channels)

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Crop ``clip``; ``generator`` is unused."""
        check_generator(generator)
        clips = read_clip_batch(clip, channels=self.channels)
        out: Tensor = TF.center_crop(clips.batch, list(self.size))
        return clips.restore(out)

    def extra_repr(self) -> str:
        return f"size={self.size}, channels={self.channels}"
