"""Deterministic clip transforms, composition, two views, and an adapter for torchvision v2.

Every transform here takes one clip ``(C, T, H, W)`` or a batch ``(B, C, T, H, W)`` (channel
at dimension -4 in both) and the call signature ``transform(clip, generator=None)``, so they
chain in :class:`ClipCompose` with the random ones of :mod:`bgdebias.data.batch_transforms`.

Layout note: torchvision's transforms v2 treat a ``(T, C, H, W)`` tensor (or a
``tv_tensors.Video``) as one video and apply the same random parameters to all of its frames,
but draw one parameter set per call (a ``(B, T, C, H, W)`` batch gets a single crop for every
clip) and use the global random generator. :class:`TorchvisionClipTransform` permutes
``(C, T, H, W) -> (T, C, H, W)`` and back, and calls the wrapped transform once per clip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, Protocol

import torch
import torchvision.transforms.v2.functional as TF
from torch import Tensor, nn
from torchvision import tv_tensors

from bgdebias._validation import check_choice, check_int, check_positive, check_tensor

#: Per-channel mean of Kinetics-400 RGB frames in [0, 1] (the torchvision video models' value).
KINETICS_MEAN: tuple[float, float, float] = (0.43216, 0.394666, 0.37645)
#: Per-channel standard deviation of Kinetics-400 RGB frames in [0, 1].
KINETICS_STD: tuple[float, float, float] = (0.22803, 0.22145, 0.216989)

FrameLayout = Literal["CTHW", "TCHW", "THWC"]

_LAYOUTS = ("CTHW", "TCHW", "THWC")


class ClipTransform(Protocol):
    """A clip transform: ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in, same layout out.

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

    Args:
        clip: The tensor to check.
        name: Argument name used in error messages.

    Returns:
        ``(batch, single)``: the 5D view and whether the input was one 4D clip (undo with
        ``batch[0]``). Shape: ``(B, C, T, H, W)``.

    Raises:
        TypeError: If ``clip`` is not a tensor.
        ValueError: If it is neither 4D nor 5D, or has an empty dimension.
    """
    tensor = check_tensor(clip, name)
    if tensor.ndim not in (4, 5):
        raise ValueError(
            f"`{name}` must be a clip of shape (C, T, H, W) or a batch of shape "
            f"(B, C, T, H, W), got {tensor.ndim}D with shape {tuple(tensor.shape)}"
        )
    if tensor.numel() == 0:
        raise ValueError(f"`{name}` must not have an empty dimension, got {tuple(tensor.shape)}")
    single = tensor.ndim == 4
    return (tensor.unsqueeze(0) if single else tensor), single


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    """An output size ``(height, width)`` from an int or a pair of ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = check_int(value, name, minimum=1)
        return size, size
    if isinstance(value, Sequence) and len(value) == 2:
        return check_int(value[0], name, minimum=1), check_int(value[1], name, minimum=1)
    raise TypeError(f"`{name}` must be an int or a pair (height, width) of ints, got {value!r}")


def to_float_clip(frames: Tensor, *, layout: FrameLayout = "TCHW") -> Tensor:
    """Convert decoded frames to a float clip in [0, 1], channels first.

    Args:
        frames: ``uint8`` frames (divided by 255) or floating frames (kept as they are), laid
            out as ``layout`` with an optional leading batch dimension.
        layout: Dimension order of ``frames`` without the batch: ``"TCHW"`` (torchcodec,
            torchvision), ``"THWC"`` (PyAV, :func:`~bgdebias.data.video_writer.write_video`)
            or ``"CTHW"``.

    Returns:
        Float clip. Shape: ``(C, T, H, W)``, or ``(B, C, T, H, W)`` for a batch.

    Raises:
        TypeError: If ``frames`` is neither ``uint8`` nor floating.
        ValueError: If ``layout`` is unknown or ``frames`` is not 4D/5D.

    Example:
        >>> import torch
        >>> frames = torch.full((4, 3, 8, 8), 255, dtype=torch.uint8)  # decoded (T, C, H, W)
        >>> clip = to_float_clip(frames)
        >>> clip.shape, clip.dtype, float(clip.max())
        (torch.Size([3, 4, 8, 8]), torch.float32, 1.0)
        >>> to_float_clip(torch.zeros(2, 4, 8, 8, 3), layout="THWC").shape  # batch, channels last
        torch.Size([2, 3, 4, 8, 8])
    """
    check_choice(layout, "layout", _LAYOUTS)
    tensor = check_tensor(frames, "frames")
    if tensor.ndim not in (4, 5):
        raise ValueError(
            f"`frames` must be 4D ({layout}) or 5D (B, {', '.join(layout)}), got "
            f"{tensor.ndim}D with shape {tuple(tensor.shape)}"
        )
    if tensor.dtype == torch.uint8:
        tensor = tensor.float().div_(255.0)
    elif not tensor.is_floating_point():
        raise TypeError(f"`frames` must be uint8 or floating point, got {tensor.dtype}")
    lead = tensor.ndim - 4
    order = {"CTHW": (0, 1, 2, 3), "TCHW": (1, 0, 2, 3), "THWC": (3, 0, 1, 2)}[layout]
    return tensor.permute(*range(lead), *(lead + axis for axis in order))


class ToFloatClip(nn.Module):
    """Module form of :func:`to_float_clip` (``uint8`` frames to a float clip in [0, 1]).

    Args:
        layout: Dimension order of the input frames, see :func:`to_float_clip`.

    Shape:
        ``layout`` (optionally with a leading B) in; ``(C, T, H, W)`` / ``(B, C, T, H, W)`` out.

    Example:
        >>> import torch
        >>> frames = torch.full((4, 8, 8, 3), 51, dtype=torch.uint8)  # PyAV's (T, H, W, C)
        >>> clip = ToFloatClip(layout="THWC")(frames)
        >>> clip.shape, round(float(clip.mean()), 3)  # 51 / 255
        (torch.Size([3, 4, 8, 8]), 0.2)
    """

    def __init__(self, *, layout: FrameLayout = "TCHW") -> None:
        super().__init__()
        check_choice(layout, "layout", _LAYOUTS)
        self.layout: FrameLayout = layout

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Convert ``clip``; ``generator`` is unused."""
        del generator
        return to_float_clip(clip, layout=self.layout)

    def extra_repr(self) -> str:
        return f"layout={self.layout!r}"


class ResizeShortSideClip(nn.Module):
    """Resize every frame so that its shorter side is ``size`` (aspect kept, antialiased).

    Args:
        size: Target length of the shorter side in pixels.

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in and out (new H, W).

    Example:
        >>> import torch
        >>> resize = ResizeShortSideClip(16)
        >>> resize(torch.rand(3, 4, 24, 48)).shape  # 24 x 48 -> 16 x 32: the aspect is kept
        torch.Size([3, 4, 16, 32])
        >>> resize(torch.rand(2, 3, 4, 40, 20)).shape  # a batch; the width is the short side
        torch.Size([2, 3, 4, 32, 16])
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = check_int(size, "size", minimum=1)

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Resize ``clip``; ``generator`` is unused."""
        del generator
        as_clip_batch(clip)
        out: Tensor = TF.resize(clip, [self.size], antialias=True)
        return out

    def extra_repr(self) -> str:
        return f"size={self.size}"


class CenterCropClip(nn.Module):
    """Crop the centre ``size`` of every frame (zero-padded if the frame is smaller).

    Args:
        size: Output ``(height, width)``, or one int for a square.

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in and out (new H, W).

    Example:
        >>> import torch
        >>> clip = torch.arange(32.0).expand(3, 4, 16, 32)  # each pixel holds its column
        >>> out = CenterCropClip(16)(clip)
        >>> out.shape, out[0, 0, 0, [0, -1]].tolist()  # columns 8 to 23 are kept
        (torch.Size([3, 4, 16, 16]), [8.0, 23.0])
    """

    def __init__(self, size: int | tuple[int, int]) -> None:
        super().__init__()
        self.size = _pair(size, "size")

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Crop ``clip``; ``generator`` is unused."""
        del generator
        as_clip_batch(clip)
        out: Tensor = TF.center_crop(clip, list(self.size))
        return out

    def extra_repr(self) -> str:
        return f"size={self.size}"


class NormalizeClip(nn.Module):
    """Subtract a per-channel mean and divide by a per-channel standard deviation.

    Args:
        mean: One value per channel (default: Kinetics-400, :data:`KINETICS_MEAN`).
        std: One positive value per channel (default: :data:`KINETICS_STD`).

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` float in and out, ``C == len(mean)``.

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
        del generator
        batch, _ = as_clip_batch(clip)
        if not clip.is_floating_point():
            raise TypeError(f"`clip` must be floating point to normalise, got {clip.dtype}")
        if batch.shape[1] != len(self.mean):
            raise ValueError(
                f"`clip` has {batch.shape[1]} channels but `mean`/`std` have {len(self.mean)}"
            )
        shape = (len(self.mean), 1, 1, 1)
        mean = torch.tensor(self.mean, device=clip.device, dtype=clip.dtype).view(shape)
        std = torch.tensor(self.std, device=clip.device, dtype=clip.dtype).view(shape)
        return (clip - mean) / std

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

    Shape:
        ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in and out.

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

    def __init__(self, transform: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        if not callable(transform):
            raise TypeError(f"`transform` must be callable, got {type(transform).__name__}")
        self.transform = transform

    def forward(self, clip: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Transform ``clip``; ``generator`` is unused (torchvision uses the global one)."""
        del generator
        batch, single = as_clip_batch(clip)
        outputs = []
        for one in batch:
            video = tv_tensors.Video(one.permute(1, 0, 2, 3))
            out = self.transform(video)
            outputs.append(out.as_subclass(Tensor).permute(1, 0, 2, 3))
        stacked = torch.stack(outputs)
        return stacked[0] if single else stacked

    def extra_repr(self) -> str:
        return repr(self.transform)
