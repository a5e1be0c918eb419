"""Composition of clip transforms, two views of a clip, and an adapter for torchvision v2.

torchvision's own v2 transforms read a plain tensor as images ``(..., C, H, W)``, and a
``(T, C, H, W)`` tensor or a ``tv_tensors.Video`` as one video whose frames all get the same
random parameters; they draw one parameter set per call (a ``(B, T, C, H, W)`` batch gets a
single crop for every clip) from the global random generator. :class:`TorchvisionClipTransform`
runs one on bgdebias clips, once per clip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torchvision import tv_tensors

from bgdebias.data.transforms._input import check_channel_count, check_generator, read_clip_batch
from bgdebias.data.transforms.base import ClipTransform


class ClipCompose(nn.Module):
    """Apply clip transforms in order, passing the same generator to each.

    Args:
        transforms: Callables ``transform(clip, generator=None) -> clip``.

    Shape:
        Whatever the chain maps, usually ``(C, T, H, W)`` or ``(B, C, T, H, W)``.

    Example:
        >>> import torch
        >>> from bgdebias.data import NormalizeClip, RandomResizedCropClip, ToFloatClip
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
    reproducible together. Each view draws its own flip, so with a flipping transform half
    of the pairs show mirrored motions; :class:`~bgdebias.data.ClipViewAugmentation` shares
    one flip per video between its views (what the pretraining recipe uses).

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
