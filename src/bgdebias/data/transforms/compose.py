"""Deterministic clip transforms, composition, two views, and an adapter for torchvision v2.

Every transform here takes one clip ``(C, T, H, W)`` or a batch ``(B, C, T, H, W)`` (channel
at dimension -4 in both) and the call signature ``transform(clip, generator=None)``, so they
chain in :class:`ClipCompose` with the random ones of :mod:`bgdebias.data.batch_transforms`.

Layouts: the type of the input says its layout. A plain tensor is a bgdebias clip,
``(C, T, H, W)`` or ``(B, C, T, H, W)``, and comes back as one. A ``tv_tensors.Video`` is
torchvision's video, ``(T, C, H, W)`` or ``(B, T, C, H, W)``, and comes back as a
``tv_tensors.Video`` in that layout, with the values and random draws of the same clip given
as ``(C, T, H, W)``; so the transforms also work inside ``torchvision.transforms.v2.Compose``
on videos. The channel dimension is checked (``channels=3`` by default), so a plain
``(T, C, H, W)`` tensor is refused with a message naming the swap.

torchvision's own v2 transforms read a plain tensor as images ``(..., C, H, W)``, and a
``(T, C, H, W)`` tensor or a ``tv_tensors.Video`` as one video whose frames all get the same
random parameters; they draw one parameter set per call (a ``(B, T, C, H, W)`` batch gets a
single crop for every clip) from the global random generator. :class:`TorchvisionClipTransform`
runs one on bgdebias clips, once per clip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, Protocol

import torch
import torchvision.transforms.v2.functional as TF
from torch import Tensor, nn
from torchvision import tv_tensors

from bgdebias._validation import check_choice, check_int, check_positive, check_tensor
from bgdebias.data._clip_input import check_channel_count, check_generator, read_clip_batch

#: Per-channel mean of Kinetics-400 RGB frames in [0, 1] (the torchvision video models' value).
KINETICS_MEAN: tuple[float, float, float] = (0.43216, 0.394666, 0.37645)
#: Per-channel standard deviation of Kinetics-400 RGB frames in [0, 1].
KINETICS_STD: tuple[float, float, float] = (0.22803, 0.22145, 0.216989)

FrameLayout = Literal["CTHW", "TCHW", "THWC"]

_LAYOUTS = ("CTHW", "TCHW", "THWC")


class ClipTransform(Protocol):
    """A clip transform: ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in, same layout out.

    The transforms of bgdebias also take a ``tv_tensors.Video`` ``(..., T, C, H, W)`` and give
    back one in that layout (see the module notes).

    Example:
        >>> import torch
        >>> def reverse_time(clip, generator=None):  # a ClipTransform: play backwards
        ...     return clip.flip(-3)
        >>> clip = torch.arange(4.0).view(1, 4, 1, 1).expand(3, 4, 8, 8)  # frame t holds t
        >>> out = ClipCompose([reverse_time, CenterCropClip(4)])(clip)
        >>> out.shape, out[0, :, 0, 0].tolist()
        (torch.Size([3, 4, 4, 4]), [3.0, 2.0, 1.0, 0.0])
    """

    def __call__(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Transform ``clip``, drawing any randomness from ``generator``."""
        ...


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
    """
    clips = read_clip_batch(clip, name)
    return clips.batch, clips.single


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    """An output size ``(height, width)`` from an int or a pair of ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = check_int(value, name, minimum=1)
        return size, size
    if isinstance(value, Sequence) and len(value) == 2:
        return check_int(value[0], name, minimum=1), check_int(value[1], name, minimum=1)
    raise TypeError(f"`{name}` must be an int or a pair (height, width) of ints, got {value!r}")


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
        self.size = _pair(size, "size")
        self.channels = check_channel_count(channels)

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Crop ``clip``; ``generator`` is unused."""
        check_generator(generator)
        clips = read_clip_batch(clip, channels=self.channels)
        out: Tensor = TF.center_crop(clips.batch, list(self.size))
        return clips.restore(out)

    def extra_repr(self) -> str:
        return f"size={self.size}, channels={self.channels}"


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


class ClipCompose(nn.Module):
    """Apply clip transforms in order, passing the same generator to each.

    Args:
        transforms: Callables ``transform(clip, generator=None) -> clip``.

    Shape:
        Whatever the chain maps, usually ``(C, T, H, W)`` or ``(B, C, T, H, W)``.

    Example:
        >>> import torch
        >>> from bgdebias.data import RandomResizedCropClip
        >>> pipeline = ClipCompose(
        ...     [ToFloatClip(layout="THWC"), RandomResizedCropClip(16), NormalizeClip()]
        ... )
        >>> frames = torch.randint(0, 256, (4, 24, 32, 3), dtype=torch.uint8)  # (T, H, W, C)
        >>> out = pipeline(frames, generator=torch.Generator().manual_seed(0))
        >>> out.shape, out.dtype
        (torch.Size([3, 4, 16, 16]), torch.float32)
        >>> again = pipeline(frames, generator=torch.Generator().manual_seed(0))
        >>> torch.equal(out, again)  # one generator drives every step: reproducible
        True
    """

    def __init__(self, transforms: Sequence[ClipTransform]) -> None:
        super().__init__()
        self.transforms = tuple(transforms)
        for position, transform in enumerate(self.transforms):
            if not callable(transform):
                raise TypeError(
                    f"`transforms[{position}]` must be callable, got {type(transform).__name__}"
                )

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Run the chain on ``clip``."""
        check_generator(generator)
        for transform in self.transforms:
            clip = transform(clip, generator=generator)
        return clip

    def extra_repr(self) -> str:
        return "\n".join(repr(transform) for transform in self.transforms)


class TwoViewTransform(nn.Module):
    """Two independently augmented views of the same clip (query and key of a MoCo pair).

    The two views come from consecutive draws of the same generator, so they differ but are
    reproducible together.

    Args:
        transform: The augmentation of the query view.
        key_transform: The augmentation of the key view (default: ``transform``).

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in; a pair of tensors of the transform's output
        shape out (for a batch, each clip gets its own parameters in each view).

    Example:
        >>> import torch
        >>> from bgdebias.data import RandomResizedCropClip
        >>> two_views = TwoViewTransform(RandomResizedCropClip(16))
        >>> clip = torch.rand(3, 4, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> query, key = two_views(clip, generator=torch.Generator().manual_seed(0))
        >>> query.shape, key.shape, torch.equal(query, key)  # two different crops
        (torch.Size([3, 4, 16, 16]), torch.Size([3, 4, 16, 16]), False)
        >>> query2, key2 = two_views(clip, generator=torch.Generator().manual_seed(0))
        >>> torch.equal(query, query2) and torch.equal(key, key2)  # reproducible together
        True
    """

    def __init__(
        self, transform: ClipTransform, key_transform: ClipTransform | None = None
    ) -> None:
        super().__init__()
        self.transform = transform
        self.key_transform = key_transform if key_transform is not None else transform

    def forward(
        self, clip: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """Return ``(query_view, key_view)``."""
        check_generator(generator)
        query = self.transform(clip, generator=generator)
        key = self.key_transform(clip, generator=generator)
        return query, key


class TorchvisionClipTransform(nn.Module):
    """Run a torchvision transforms-v2 transform on clips, the same parameters on every frame.

    Each clip ``(C, T, H, W)`` is permuted to ``(T, C, H, W)``, wrapped as a
    ``tv_tensors.Video`` and passed to ``transform``; a batch is transformed clip by clip so
    every clip gets its own parameters. torchvision draws from the global random generator,
    so ``generator`` is ignored: seed with ``torch.manual_seed`` for reproducibility.

    Args:
        transform: A torchvision v2 transform (or any callable on ``(T, C, H, W)`` videos).
        channels: Number of channels a clip must have (``None``: any).

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in and out; a ``tv_tensors.Video``
        ``(..., T, C, H, W)`` in and out (each clip of a 5D one gets its own parameters).

    Example:
        >>> import torch
        >>> from torchvision.transforms import v2
        >>> _ = torch.manual_seed(0)  # torchvision draws from the global generator
        >>> crop = TorchvisionClipTransform(v2.RandomCrop(4))
        >>> clip = torch.rand(3, 1, 8, 8).expand(3, 4, 8, 8)  # (C, T, H, W): 4 equal frames
        >>> out = crop(clip)
        >>> out.shape, bool((out == out[:, :1]).all())  # the same box on every frame
        (torch.Size([3, 4, 4, 4]), True)
        >>> crop(torch.rand(2, 3, 4, 8, 8)).shape  # a batch: one box per clip
        torch.Size([2, 3, 4, 4, 4])
    """

    def __init__(self, transform: Callable[[Tensor], Tensor], *, channels: int | None = 3) -> None:
        super().__init__()
        if not callable(transform):
            raise TypeError(f"`transform` must be callable, got {type(transform).__name__}")
        self.transform = transform
        self.channels = check_channel_count(channels)

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Transform ``clip``; ``generator`` is unused (torchvision uses the global one)."""
        check_generator(generator)
        clips = read_clip_batch(clip, channels=self.channels)
        outputs = []
        for one in clips.batch:
            video = tv_tensors.Video(one.permute(1, 0, 2, 3))
            out = self.transform(video)
            outputs.append(out.as_subclass(Tensor).permute(1, 0, 2, 3))
        return clips.restore(torch.stack(outputs))

    def extra_repr(self) -> str:
        return repr(self.transform)
