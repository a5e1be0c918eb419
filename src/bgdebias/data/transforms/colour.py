"""Pixel values: float conversion, normalisation, colour jitter, grayscale.

Colour transforms follow torchvision's definitions (same grayscale weights, per-frame
contrast mean, clamping to [0, 1]) but draw per clip, so a batch on the training device is
transformed in one pass with each clip's own factors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn
from torchvision import tv_tensors

from bgdebias._validation import (
    check_choice,
    check_int,
    check_non_negative,
    check_positive,
    check_tensor,
    check_unit,
)
from bgdebias.data.transforms._draws import bernoulli, per_clip, uniform
from bgdebias.data.transforms._input import check_channel_count, check_generator, read_clip_batch
from bgdebias.data.transforms.base import RandomClipTransform, RandomSwitchClip

#: Per-channel mean of Kinetics-400 RGB frames in [0, 1] (the torchvision video models' value).
KINETICS_MEAN: tuple[float, float, float] = (0.43216, 0.394666, 0.37645)


#: Per-channel standard deviation of Kinetics-400 RGB frames in [0, 1].
KINETICS_STD: tuple[float, float, float] = (0.22803, 0.22145, 0.216989)


FrameLayout = Literal["CTHW", "TCHW", "THWC"]


_LAYOUTS = ("CTHW", "TCHW", "THWC")


def to_float_clip(
    frames: Tensor, *, layout: FrameLayout = "TCHW", channels: int | None = 3
) -> Tensor:
    """Convert decoded frames to a float clip in [0, 1], channels first.

    A ``tv_tensors.Video`` is ``(T, C, H, W)`` (or ``(B, T, C, H, W)``) whatever ``layout``
    says, and comes back as a float ``tv_tensors.Video`` in that layout.

    Args:
        frames: ``uint8`` frames (divided by 255) or floating frames (kept as they are), laid
            out as ``layout`` with an optional leading batch dimension.
        layout: Dimension order of a plain ``frames`` tensor without the batch: ``"TCHW"``
            (torchcodec, torchvision), ``"THWC"`` (PyAV,
            :func:`~bgdebias.data.write_video`) or ``"CTHW"``.
        channels: Number of channels ``frames`` must have in dimension C (``None``: any).

    Returns:
        Float clip. Shape: ``(C, T, H, W)``, or ``(B, C, T, H, W)`` for a batch.

    Raises:
        TypeError: If ``frames`` is neither ``uint8`` nor floating.
        ValueError: If ``layout`` is unknown, ``frames`` is not 4D/5D, or its dimension C
            does not hold ``channels`` (the message names the layout it looks like).

    Example:
        >>> import torch
        >>> frames = torch.full((4, 3, 8, 8), 255, dtype=torch.uint8)  # decoded (T, C, H, W)
        >>> clip = to_float_clip(frames)
        >>> clip.shape, clip.dtype, float(clip.max())
        (torch.Size([3, 4, 8, 8]), torch.float32, 1.0)
        >>> to_float_clip(torch.zeros(2, 4, 8, 8, 3), layout="THWC").shape  # batch, channels last
        torch.Size([2, 3, 4, 8, 8])
        >>> from torchvision import tv_tensors
        >>> video = to_float_clip(tv_tensors.Video(frames))  # a Video stays (T, C, H, W)
        >>> type(video).__name__, video.shape, video.dtype
        ('Video', torch.Size([4, 3, 8, 8]), torch.float32)
    """
    check_choice(layout, "layout", _LAYOUTS)
    channels = check_channel_count(channels)
    tensor = check_tensor(frames, "frames")
    if isinstance(tensor, tv_tensors.Video):
        clips = read_clip_batch(tensor, "frames", channels=channels)
        return clips.restore(_to_float(clips.batch))
    if tensor.ndim not in (4, 5):
        raise ValueError(
            f"`frames` must be 4D ({layout}) or 5D (B, {', '.join(layout)}), got "
            f"{tensor.ndim}D with shape {tuple(tensor.shape)}"
        )
    _check_frame_channels(tensor, layout, channels)
    tensor = _to_float(tensor)
    lead = tensor.ndim - 4
    order = {"CTHW": (0, 1, 2, 3), "TCHW": (1, 0, 2, 3), "THWC": (3, 0, 1, 2)}[layout]
    return tensor.permute(*range(lead), *(lead + axis for axis in order))


def _to_float(frames: Tensor) -> Tensor:
    """``uint8`` divided by 255, floating kept as it is."""
    if frames.dtype == torch.uint8:
        return frames.float().div_(255.0)
    if not frames.is_floating_point():
        raise TypeError(f"`frames` must be uint8 or floating point, got {frames.dtype}")
    return frames


def _check_frame_channels(frames: Tensor, layout: FrameLayout, channels: int | None) -> None:
    """Raise ``ValueError`` unless dimension C of ``layout`` holds ``channels``."""
    lead = frames.ndim - 4
    found = frames.shape[lead + layout.index("C")]
    if channels is None or found == channels:
        return
    names = ", ".join(layout)
    message = (
        f"`frames` must have {channels} channels, got {found} (dimension C of "
        f"{'(B, ' if lead else '('}{names}), layout={layout!r}, shape {tuple(frames.shape)})"
    )
    for other in _LAYOUTS:
        if other != layout and frames.shape[lead + other.index("C")] == channels:
            message += f"; it looks like ({', '.join(other)}) frames: pass layout={other!r}"
            if other == "TCHW":
                message += " or wrap them as `torchvision.tv_tensors.Video`"
            break
    message += f"; pass `channels={found}` if the frames really have {found} channels"
    raise ValueError(message)


class ToFloatClip(nn.Module):
    """Module form of :func:`to_float_clip` (``uint8`` frames to a float clip in [0, 1]).

    Args:
        layout: Dimension order of plain input frames, see :func:`to_float_clip`.
        channels: Number of channels the frames must have (``None``: any).

    Shape:
        ``layout`` (optionally with a leading B) in; ``(C, T, H, W)`` / ``(B, C, T, H, W)`` out.
        A ``tv_tensors.Video`` ``(..., T, C, H, W)`` comes back as one, in that layout.

    Example:
        >>> import torch
        >>> frames = torch.full((4, 8, 8, 3), 51, dtype=torch.uint8)  # PyAV's (T, H, W, C)
        >>> clip = ToFloatClip(layout="THWC")(frames)
        >>> clip.shape, round(float(clip.mean()), 3)  # 51 / 255
        (torch.Size([3, 4, 8, 8]), 0.2)
    """

    def __init__(self, *, layout: FrameLayout = "TCHW", channels: int | None = 3) -> None:
        super().__init__()
        check_choice(layout, "layout", _LAYOUTS)
        self.layout: FrameLayout = layout
        self.channels = check_channel_count(channels)

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Convert ``clip``; ``generator`` is unused."""
        check_generator(generator)
        return to_float_clip(clip, layout=self.layout, channels=self.channels)

    def extra_repr(self) -> str:
        return f"layout={self.layout!r}, channels={self.channels}"


class NormalizeClip(nn.Module):
    """Subtract a per-channel mean and divide by a per-channel standard deviation.

    Args:
        mean: One value per channel (default: Kinetics-400, :data:`KINETICS_MEAN`).
        std: One positive value per channel (default: :data:`KINETICS_STD`).

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` float in and out, ``C == len(mean)``; a
        ``tv_tensors.Video`` ``(..., T, C, H, W)`` in and out.

    Example:
        >>> import torch
        >>> normalize = NormalizeClip(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
        >>> out = normalize(torch.full((2, 3, 4, 8, 8), 0.75))
        >>> out.shape, out.unique().tolist()  # (0.75 - 0.5) / 0.25
        (torch.Size([2, 3, 4, 8, 8]), [1.0])
        >>> kinetics = torch.tensor(KINETICS_MEAN).view(3, 1, 1, 1).expand(3, 4, 8, 8)
        >>> round(float(NormalizeClip()(kinetics).abs().max()), 6)  # the default mean maps to 0
        0.0
    """

    def __init__(
        self, mean: Sequence[float] = KINETICS_MEAN, std: Sequence[float] = KINETICS_STD
    ) -> None:
        super().__init__()
        if len(mean) != len(std) or len(mean) == 0:
            raise ValueError(
                f"`mean` and `std` need one value per channel each, got {len(mean)} and "
                f"{len(std)} values"
            )
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(check_positive(s, "std") for s in std)

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Normalise ``clip``; ``generator`` is unused."""
        check_generator(generator)
        clips = read_clip_batch(clip)
        batch = clips.batch
        if not batch.is_floating_point():
            raise TypeError(f"`clip` must be floating point to normalise, got {batch.dtype}")
        if batch.shape[1] != len(self.mean):
            summary = f"`clip` has {batch.shape[1]} channels but `mean`/`std` have {len(self.mean)}"
            raise clips.channel_error(len(self.mean), summary, option=False)
        shape = (len(self.mean), 1, 1, 1)
        mean = torch.tensor(self.mean, device=batch.device, dtype=batch.dtype).view(shape)
        std = torch.tensor(self.std, device=batch.device, dtype=batch.dtype).view(shape)
        return clips.restore((batch - mean) / std)

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


#: ITU-R 601-2 luma weights, as torchvision's ``rgb_to_grayscale``.
_GRAY_WEIGHTS = (0.2989, 0.587, 0.114)


def _check_colour(batch: Tensor) -> None:
    if not batch.is_floating_point():
        raise TypeError(
            f"`clip` must be floating point in [0, 1] for colour transforms, got {batch.dtype}"
        )


def _grayscale(batch: Tensor) -> Tensor:
    """Luma of ``(B, 3, T, H, W)``. Shape: ``(B, 1, T, H, W)``."""
    weights = torch.tensor(_GRAY_WEIGHTS, device=batch.device, dtype=batch.dtype)
    return (batch * weights.view(1, 3, 1, 1, 1)).sum(dim=1, keepdim=True)


class RandomGrayscaleClip(RandomSwitchClip):
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

    def __init__(self, *, p: float = 0.2) -> None:
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


class ColorJitterClip(RandomClipTransform[ColorJitterParams]):
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
        >>> jitter = ColorJitterClip(p=1.0)
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
        *,
        brightness: float = 0.4,
        contrast: float = 0.4,
        saturation: float = 0.4,
        hue: float = 0.1,
        p: float = 0.8,
    ) -> None:
        super().__init__(channels=3, rgb=True)
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
            return uniform(max(0.0, 1.0 - strength), 1.0 + strength, shape, generator)

        brightness = factor(self.brightness)
        contrast = factor(self.contrast)
        saturation = factor(self.saturation)
        hue = uniform(-self.hue, self.hue, shape, generator)
        applied = bernoulli(self.p, num_clips, generator)
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
        out = (batch * per_clip(params.brightness, batch)).clamp(0.0, 1.0)
        frame_mean = _grayscale(out).mean(dim=(1, 3, 4), keepdim=True)
        contrast = per_clip(params.contrast, batch)
        out = (contrast * out + (1.0 - contrast) * frame_mean).clamp(0.0, 1.0)
        saturation = per_clip(params.saturation, batch)
        out = (saturation * out + (1.0 - saturation) * _grayscale(out)).clamp(0.0, 1.0)
        out = shift_hue(out, per_clip(params.hue, batch))
        out = torch.where(per_clip(params.applied, batch), out, batch)
        return clips.restore(out)

    def _draw(self, batch: Tensor, generator: torch.Generator | None) -> ColorJitterParams:
        return self.sample_params(batch.shape[0], generator)

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

    Example:
        >>> import torch
        >>> from bgdebias.data.functional import shift_hue
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1, 1)
        >>> shift_hue(red, torch.full((1, 1, 1, 1, 1), 1 / 3)).flatten()  # a third turn: green
        tensor([0., 1., 0.])
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
