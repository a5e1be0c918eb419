"""Random clip augmentations with per-clip parameters, shared by all frames of a clip.

Each transform takes one clip ``(C, T, H, W)`` or a batch ``(B, C, T, H, W)`` on any device
(e.g. the training GPU) and an optional ``torch.Generator``. Every clip of a batch draws its
own parameters; all frames of a clip share them, so motion is never distorted. Each class
splits into ``sample_params(num_clips, generator)`` (a small dataclass of per-clip values) and
``apply_params(clip, params)`` (deterministic), which ``forward`` chains.

A ``tv_tensors.Video`` ``(T, C, H, W)`` or ``(B, T, C, H, W)`` is read in its own layout and
comes back as a ``tv_tensors.Video``, with the draws and values of the same clips given as
``(C, T, H, W)`` (see :mod:`bgdebias.data.transforms`).

Parameters are drawn on the generator's device (CPU without one) and moved to the clip's
device. Colour transforms follow torchvision's definitions (same grayscale weights,
per-frame contrast mean, clamping to [0, 1]); see :mod:`bgdebias.data.transforms` for why
torchvision's own v2 transforms are not used on batches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from torch import Tensor, nn

from bgdebias._validation import check_int, check_non_negative, check_number, check_unit
from bgdebias.data._clip_input import check_channel_count, check_generator, read_clip_batch
from bgdebias.data.transforms import _pair

#: ITU-R 601-2 luma weights, as torchvision's ``rgb_to_grayscale``.
_GRAY_WEIGHTS = (0.2989, 0.587, 0.114)


def _draw_device(generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def _uniform(
    low: float, high: float, shape: tuple[int, ...], generator: torch.Generator | None
) -> Tensor:
    device = _draw_device(generator)
    return low + (high - low) * torch.rand(shape, generator=generator, device=device)


def _bernoulli(p: float, num_clips: int, generator: torch.Generator | None) -> Tensor:
    device = _draw_device(generator)
    return torch.rand(num_clips, generator=generator, device=device) < p


def _check_interval(
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


def _check_colour(batch: Tensor) -> None:
    if not batch.is_floating_point():
        raise TypeError(
            f"`clip` must be floating point in [0, 1] for colour transforms, got {batch.dtype}"
        )


def _per_clip(values: Tensor, batch: Tensor) -> Tensor:
    """Per-clip values ``(B,)`` as ``(B, 1, 1, 1, 1)`` on the batch's device and dtype."""
    dtype = batch.dtype if values.is_floating_point() else values.dtype
    return values.to(device=batch.device, dtype=dtype).view(-1, 1, 1, 1, 1)


def _grayscale(batch: Tensor) -> Tensor:
    """Luma of ``(B, 3, T, H, W)``. Shape: ``(B, 1, T, H, W)``."""
    weights = torch.tensor(_GRAY_WEIGHTS, device=batch.device, dtype=batch.dtype)
    return (batch * weights.view(1, 3, 1, 1, 1)).sum(dim=1, keepdim=True)


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


class RandomResizedCropClip(nn.Module):
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
        super().__init__()
        self.size = _pair(size, "size")
        self.scale = _check_interval(scale, "scale", minimum=0.0, maximum=1.0)
        if self.scale[1] == 0.0:
            raise ValueError(f"`scale` must allow a non-empty box, got {scale!r}")
        self.ratio = _check_interval(ratio, "ratio", minimum=0.0)
        if self.ratio[0] == 0.0:
            raise ValueError(f"`ratio` must be > 0, got {ratio!r}")
        self.channels = check_channel_count(channels)

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
        target = area * _uniform(*self.scale, (num_clips, tries), generator)
        log_low, log_high = math.log(self.ratio[0]), math.log(self.ratio[1])
        aspect = torch.exp(_uniform(log_low, log_high, (num_clips, tries), generator))
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
        u = _uniform(0.0, 1.0, (2, num_clips), generator).cpu()
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

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Crop a random box of every clip."""
        check_generator(generator)
        batch = read_clip_batch(clip, channels=self.channels).batch
        params = self.sample_params(batch.shape[0], batch.shape[-2], batch.shape[-1], generator)
        return self.apply_params(clip, params)

    def extra_repr(self) -> str:
        return f"size={self.size}, scale={self.scale}, ratio={self.ratio}, channels={self.channels}"


class _RandomSwitch(nn.Module):
    """A per-clip on/off transform (flip, grayscale): ``params`` is a bool ``(B,)``."""

    def __init__(self, p: float, *, channels: int | None, rgb: bool) -> None:
        super().__init__()
        self.p = check_unit(p, "p")
        self.channels = check_channel_count(channels)
        self._rgb = rgb

    def sample_params(self, num_clips: int, generator: torch.Generator | None = None) -> Tensor:
        """Which clips are transformed. Shape: ``(num_clips,)``, bool."""
        check_int(num_clips, "num_clips", minimum=1)
        return _bernoulli(self.p, num_clips, generator)

    def _transform_all(self, batch: Tensor) -> Tensor:
        raise NotImplementedError

    def apply_params(self, clip: Tensor, params: Tensor) -> Tensor:
        """Transform the clips where ``params`` is true. Shape: like ``clip``."""
        clips = read_clip_batch(clip, channels=self.channels, rgb=self._rgb)
        batch = clips.batch
        out = torch.where(_per_clip(params, batch), self._transform_all(batch), batch)
        return clips.restore(out)

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Transform each clip with probability ``p``."""
        check_generator(generator)
        batch = read_clip_batch(clip, channels=self.channels, rgb=self._rgb).batch
        return self.apply_params(clip, self.sample_params(batch.shape[0], generator))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomHorizontalFlipClip(_RandomSwitch):
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

    def __init__(self, p: float = 0.5, *, channels: int | None = 3) -> None:
        super().__init__(p, channels=channels, rgb=False)

    def _transform_all(self, batch: Tensor) -> Tensor:
        return batch.flip(-1)

    def extra_repr(self) -> str:
        return f"p={self.p}, channels={self.channels}"


class RandomGrayscaleClip(_RandomSwitch):
    """Turn each clip grey (luma copied to the three channels) with probability ``p``.

    Args:
        p: Probability of converting a clip.

    Shape:
        ``(3, T, H, W)`` or ``(B, 3, T, H, W)`` float in and out; a ``tv_tensors.Video``
        ``(..., T, 3, H, W)`` in and out.

    Example:
        >>> import torch
        >>> grayscale = RandomGrayscaleClip(p=0.5)
        >>> clips = torch.rand(4, 3, 2, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> out = grayscale(clips, generator=torch.Generator().manual_seed(0))
        >>> out.shape, [bool(torch.equal(clip[0], clip[1])) for clip in out]  # grey: R == G
        (torch.Size([4, 3, 2, 8, 8]), [True, False, True, True])
    """

    def __init__(self, p: float = 0.2) -> None:
        super().__init__(p, channels=3, rgb=True)

    def _transform_all(self, batch: Tensor) -> Tensor:
        _check_colour(batch)
        return _grayscale(batch).expand_as(batch)


@dataclass(frozen=True)
class ColorJitterParams:
    """Per-clip colour factors (identity values where ``applied`` is false).

    Attributes:
        brightness: Multiplicative factor. Shape: ``(B,)``.
        contrast: Blend factor towards each frame's mean luma. Shape: ``(B,)``.
        saturation: Blend factor towards the luma. Shape: ``(B,)``.
        hue: Hue shift in turns, in [-0.5, 0.5]. Shape: ``(B,)``.
        applied: Whether the clip is jittered at all. Shape: ``(B,)``, bool.

    Example:
        >>> import torch
        >>> jitter = ColorJitterClip(brightness=0.4, contrast=0.0, saturation=0.0, hue=0.0, p=0.5)
        >>> params = jitter.sample_params(4, generator=torch.Generator().manual_seed(0))
        >>> params.applied.tolist()
        [False, False, True, True]
        >>> [round(factor, 2) for factor in params.brightness.tolist()]  # in [0.6, 1.4] if applied
        [1.0, 1.0, 0.67, 0.71]
    """

    brightness: Tensor
    contrast: Tensor
    saturation: Tensor
    hue: Tensor
    applied: Tensor


class ColorJitterClip(nn.Module):
    """Random brightness, contrast, saturation and hue per clip, with probability ``p``.

    Factors are drawn as torchvision's ``ColorJitter`` (``[max(0, 1 - s), 1 + s]`` and hue in
    ``[-hue, hue]``) but applied in a fixed order (brightness, contrast, saturation, hue)
    rather than a random one, so that a batch is transformed in one pass.

    Args:
        brightness: Strength of the brightness change, >= 0.
        contrast: Strength of the contrast change, >= 0.
        saturation: Strength of the saturation change, >= 0.
        hue: Largest hue shift in turns, in [0, 0.5].
        p: Probability that a clip is jittered (0.8 in MoCo v2).

    Shape:
        ``(3, T, H, W)`` or ``(B, 3, T, H, W)`` float in [0, 1], in and out; a
        ``tv_tensors.Video`` ``(..., T, 3, H, W)`` in and out.

    Example:
        >>> import torch
        >>> jitter = ColorJitterClip(0.4, 0.4, 0.4, 0.1, p=1.0)
        >>> clips = torch.rand(2, 3, 4, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> out = jitter(clips, generator=torch.Generator().manual_seed(0))
        >>> out.shape, bool(out.min() >= 0 and out.max() <= 1)  # clamped to [0, 1]
        (torch.Size([2, 3, 4, 8, 8]), True)
        >>> params = jitter.sample_params(2, generator=torch.Generator().manual_seed(0))
        >>> torch.equal(jitter.apply_params(clips, params), out)  # forward = sample + apply
        True
    """

    def __init__(
        self,
        brightness: float = 0.4,
        contrast: float = 0.4,
        saturation: float = 0.4,
        hue: float = 0.1,
        *,
        p: float = 0.8,
    ) -> None:
        super().__init__()
        self.brightness = check_non_negative(brightness, "brightness")
        self.contrast = check_non_negative(contrast, "contrast")
        self.saturation = check_non_negative(saturation, "saturation")
        self.hue = check_non_negative(hue, "hue")
        if self.hue > 0.5:
            raise ValueError(f"`hue` must be in [0, 0.5], got {hue!r}")
        self.p = check_unit(p, "p")

    def sample_params(
        self, num_clips: int, generator: torch.Generator | None = None
    ) -> ColorJitterParams:
        """Draw the factors of ``num_clips`` clips."""
        check_int(num_clips, "num_clips", minimum=1)
        shape = (num_clips,)

        def factor(strength: float) -> Tensor:
            return _uniform(max(0.0, 1.0 - strength), 1.0 + strength, shape, generator)

        brightness = factor(self.brightness)
        contrast = factor(self.contrast)
        saturation = factor(self.saturation)
        hue = _uniform(-self.hue, self.hue, shape, generator)
        applied = _bernoulli(self.p, num_clips, generator)
        one = torch.ones_like(brightness)
        return ColorJitterParams(
            brightness=torch.where(applied, brightness, one),
            contrast=torch.where(applied, contrast, one),
            saturation=torch.where(applied, saturation, one),
            hue=torch.where(applied, hue, torch.zeros_like(hue)),
            applied=applied,
        )

    def apply_params(self, clip: Tensor, params: ColorJitterParams) -> Tensor:
        """Jitter with given factors. Shape: like ``clip``."""
        clips = read_clip_batch(clip, channels=3, rgb=True)
        batch = clips.batch
        _check_colour(batch)
        out = (batch * _per_clip(params.brightness, batch)).clamp(0.0, 1.0)
        frame_mean = _grayscale(out).mean(dim=(1, 3, 4), keepdim=True)
        contrast = _per_clip(params.contrast, batch)
        out = (contrast * out + (1.0 - contrast) * frame_mean).clamp(0.0, 1.0)
        saturation = _per_clip(params.saturation, batch)
        out = (saturation * out + (1.0 - saturation) * _grayscale(out)).clamp(0.0, 1.0)
        out = shift_hue(out, _per_clip(params.hue, batch))
        out = torch.where(_per_clip(params.applied, batch), out, batch)
        return clips.restore(out)

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Jitter each clip with probability ``p``."""
        check_generator(generator)
        batch = read_clip_batch(clip, channels=3, rgb=True).batch
        return self.apply_params(clip, self.sample_params(batch.shape[0], generator))

    def extra_repr(self) -> str:
        return (
            f"brightness={self.brightness}, contrast={self.contrast}, "
            f"saturation={self.saturation}, hue={self.hue}, p={self.p}"
        )


def shift_hue(batch: Tensor, shift: Tensor) -> Tensor:
    """Rotate the hue of RGB clips by ``shift`` turns (torchvision's ``adjust_hue`` per clip).

    Args:
        batch: RGB values in [0, 1]. Shape: ``(B, 3, T, H, W)``.
        shift: Hue shift per clip, broadcastable. Shape: ``(B, 1, 1, 1, 1)``.

    Returns:
        The shifted clips. Shape: ``(B, 3, T, H, W)``.
    """
    red, green, blue = batch.unbind(dim=1)
    value = batch.amax(dim=1)
    chroma = value - batch.amin(dim=1)
    grey = chroma == 0
    ones = torch.ones_like(value)
    saturation = chroma / torch.where(grey, ones, value)
    divisor = torch.where(grey, ones, chroma)
    rc, gc, bc = (value - red) / divisor, (value - green) / divisor, (value - blue) / divisor
    is_red = value == red
    is_green = (value == green) & ~is_red
    is_blue = ~is_red & ~is_green
    hue = is_red * (bc - gc) + is_green * (2.0 + rc - bc) + is_blue * (4.0 + gc - rc)
    hue = torch.remainder(hue / 6.0 + shift.squeeze(1), 1.0)
    # Back to RGB (torchvision's _hsv_to_rgb).
    sector = torch.floor(hue * 6.0)
    fraction = hue * 6.0 - sector
    sector = sector.long().remainder(6)
    p = (value * (1.0 - saturation)).clamp(0.0, 1.0)
    q = (value * (1.0 - saturation * fraction)).clamp(0.0, 1.0)
    t = (value * (1.0 - saturation * (1.0 - fraction))).clamp(0.0, 1.0)
    table = torch.stack(
        [
            torch.stack([value, q, p, p, t, value], dim=1),
            torch.stack([t, value, value, q, p, p], dim=1),
            torch.stack([p, p, t, value, value, q], dim=1),
        ],
        dim=1,
    )  # (B, 3, 6, T, H, W)
    index = sector.unsqueeze(1).unsqueeze(1).expand(-1, 3, 1, -1, -1, -1)
    return table.gather(2, index).squeeze(2)


@dataclass(frozen=True)
class BlurParams:
    """Per-clip blur parameters.

    Attributes:
        sigma: Standard deviation of the Gaussian in pixels. Shape: ``(B,)``.
        applied: Whether the clip is blurred. Shape: ``(B,)``, bool.

    Example:
        >>> import torch
        >>> blur = GaussianBlurClip(sigma=(0.5, 1.5), p=0.5)
        >>> params = blur.sample_params(4, generator=torch.Generator().manual_seed(0))
        >>> params.applied.tolist(), bool(((params.sigma >= 0.5) & (params.sigma <= 1.5)).all())
        ([True, False, True, False], True)
    """

    sigma: Tensor
    applied: Tensor


class GaussianBlurClip(nn.Module):
    """Blur each clip (all frames) with a random Gaussian, with probability ``p``.

    Separable blur with reflect padding, as torchvision's ``gaussian_blur``; sigma drawn
    uniformly in ``sigma`` per clip.

    Args:
        kernel_size: Odd kernel size; default: the odd number nearest to 10% of the shorter
            side (at least 3), capped below the frame size.
        sigma: Range of the standard deviation in pixels.
        p: Probability of blurring a clip (0.5 in MoCo v2).
        channels: Number of channels a clip must have (``None``: any).

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` float in and out; a ``tv_tensors.Video``
        ``(..., T, C, H, W)`` in and out.

    Example:
        >>> import torch
        >>> blur = GaussianBlurClip(sigma=(1.0, 2.0), p=1.0)
        >>> stripes = (torch.arange(16) % 2).float().expand(3, 4, 16, 16)  # 1-pixel stripes
        >>> out = blur(stripes, generator=torch.Generator().manual_seed(0))
        >>> out.shape, round(float(stripes.std()), 2), round(float(out.std()), 2)
        (torch.Size([3, 4, 16, 16]), 0.5, 0.12)
    """

    def __init__(
        self,
        kernel_size: int | None = None,
        *,
        sigma: tuple[float, float] = (0.1, 2.0),
        p: float = 0.5,
        channels: int | None = 3,
    ) -> None:
        super().__init__()
        if kernel_size is not None:
            check_int(kernel_size, "kernel_size", minimum=1)
            if kernel_size % 2 == 0:
                raise ValueError(f"`kernel_size` must be odd, got {kernel_size}")
        self.kernel_size = kernel_size
        self.sigma = _check_interval(sigma, "sigma", minimum=0.0)
        if self.sigma[0] == 0.0:
            raise ValueError(f"`sigma` must be > 0, got {sigma!r}")
        self.p = check_unit(p, "p")
        self.channels = check_channel_count(channels)

    def sample_params(self, num_clips: int, generator: torch.Generator | None = None) -> BlurParams:
        """Draw the sigma of ``num_clips`` clips and whether each is blurred."""
        check_int(num_clips, "num_clips", minimum=1)
        sigma = _uniform(*self.sigma, (num_clips,), generator)
        return BlurParams(sigma=sigma, applied=_bernoulli(self.p, num_clips, generator))

    def _kernel_size(self, height: int, width: int) -> int:
        size = self.kernel_size or max(3, 2 * round((0.1 * min(height, width) - 1) / 2) + 1)
        largest = 2 * ((min(height, width) - 1) // 2) + 1  # reflect padding needs pad < size
        return max(1, min(size, largest))

    def apply_params(self, clip: Tensor, params: BlurParams) -> Tensor:
        """Blur with given parameters. Shape: like ``clip``."""
        clips = read_clip_batch(clip, channels=self.channels)
        batch = clips.batch
        if not batch.is_floating_point():
            raise TypeError(f"`clip` must be floating point to blur, got {batch.dtype}")
        b, c, t, h, w = batch.shape
        size = self._kernel_size(h, w)
        offsets = torch.arange(size, device=batch.device, dtype=batch.dtype) - (size - 1) / 2
        sigma = params.sigma.to(device=batch.device, dtype=batch.dtype).view(b, 1)
        kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
        kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c * t, dim=0)
        planes = batch.reshape(1, b * c * t, h, w)
        pad = size // 2
        planes = F.pad(planes, (pad, pad, pad, pad), mode="reflect")
        planes = F.conv2d(planes, kernel.view(b * c * t, 1, size, 1), groups=b * c * t)
        planes = F.conv2d(planes, kernel.view(b * c * t, 1, 1, size), groups=b * c * t)
        out = torch.where(_per_clip(params.applied, batch), planes.view(b, c, t, h, w), batch)
        return clips.restore(out)

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Blur each clip with probability ``p``."""
        check_generator(generator)
        batch = read_clip_batch(clip, channels=self.channels).batch
        return self.apply_params(clip, self.sample_params(batch.shape[0], generator))

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, sigma={self.sigma}, p={self.p}, "
            f"channels={self.channels}"
        )
