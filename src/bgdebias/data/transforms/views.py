"""The views of each video for a training step (two for MoCo), drawn from one generator.

This is the library's two-view pipeline; its strengths are an
:class:`~bgdebias.data.AugmentationStrengths` (see :mod:`bgdebias.data.transforms.presets`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bgdebias._validation import check_clip, check_int
from bgdebias.data.sampling import RandomClipSampler
from bgdebias.data.transforms.blur import GaussianBlurClip
from bgdebias.data.transforms.colour import NormalizeClip, RandomGrayscaleClip
from bgdebias.data.transforms.geometric import RandomHorizontalFlipClip, RandomResizedCropClip
from bgdebias.data.transforms.presets import PRETRAIN_VIEW_STRENGTHS, AugmentationStrengths


class ClipViewAugmentation(nn.Module):
    """Views of a batch of videos (query and key for MoCo): own time window and crop each.

    Each view takes its own random temporal window, random resized crop, colour jitter and
    grayscale draw. A horizontal flip is drawn once per video and applied to BOTH views:
    flipping only one makes the pair's motions mirror images, and instance discrimination
    then teaches the encoder to ignore left versus right (the synthetic motion classes, and
    Something-Something's "from left to right", depend on it).

    Args:
        num_frames: Frames per view.
        size: Crop size of each view.
        stride: Temporal stride inside a window.
        strengths: Crop area, flip (shared: ``flip_p`` per video), jitter, grayscale and
            blur of each view (default ``PRETRAIN_VIEW_STRENGTHS``: no
            blur).
        normalize: Apply the Kinetics normalisation last.
        num_views: Views per video (2 for MoCo, 1 for supervised training).

    Shape:
        videos ``(B, C, T_video, H, W)`` float in [0, 1] -> ``num_views`` tensors
        ``(B, C, num_frames, size, size)``.

    Example:
        >>> import torch
        >>> augment = ClipViewAugmentation(num_frames=4, size=16)
        >>> videos = torch.rand(2, 3, 12, 20, 20, generator=torch.Generator().manual_seed(0))
        >>> query, key = augment(videos, torch.Generator().manual_seed(0))
        >>> query.shape, key.shape, torch.equal(query, key)
        (torch.Size([2, 3, 4, 16, 16]), torch.Size([2, 3, 4, 16, 16]), False)
        >>> again = augment(videos, torch.Generator().manual_seed(0))  # reproducible
        >>> torch.equal(again[0], query) and torch.equal(again[1], key)
        True
    """

    def __init__(
        self,
        *,
        num_frames: int,
        size: int,
        stride: int = 1,
        strengths: AugmentationStrengths = PRETRAIN_VIEW_STRENGTHS,
        normalize: bool = True,
        num_views: int = 2,
    ) -> None:
        super().__init__()
        if not isinstance(strengths, AugmentationStrengths):
            raise TypeError(
                f"`strengths` must be an AugmentationStrengths, got {type(strengths).__name__}"
            )
        check_int(num_frames, "num_frames", minimum=1)
        self.strengths = strengths
        self.windows = RandomClipSampler(num_frames, stride=check_int(stride, "stride", minimum=1))
        self.crop = RandomResizedCropClip(check_int(size, "size", minimum=1), scale=strengths.scale)
        self.flip = RandomHorizontalFlipClip(p=strengths.flip_p)
        self.jitter = strengths.colour_jitter()
        self.grayscale = RandomGrayscaleClip(p=strengths.grayscale_p)
        # No blur step at all (not even its draws) when blur_p is 0: the recipe's views.
        self.blur = GaussianBlurClip(p=strengths.blur_p) if strengths.blur_p > 0 else None
        self.normalize = NormalizeClip() if normalize else None
        self.num_views = check_int(num_views, "num_views", minimum=1)

    def forward(
        self, videos: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, ...]:
        """Return the finished views, e.g. ``(query_view, key_view)``.

        The same as :meth:`geometric` followed by :meth:`photometric` on each view.
        """
        views = self.geometric(videos, generator)
        return tuple(self.photometric(view, generator) for view in views)

    def geometric(
        self, videos: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, ...]:
        """Time window, crop and (shared) flip of each view; colours untouched.

        Shape:
            videos ``(B, C, T_video, H, W)`` in [0, 1] -> ``num_views`` tensors
            ``(B, C, num_frames, size, size)`` in [0, 1].
        """
        check_clip(videos, "videos")
        batch, _, length, height, width = videos.shape
        flips = self.flip.sample_params(batch, generator)
        views = []
        for _ in range(self.num_views):
            index = torch.stack([self.windows(length, generator)[0] for _ in range(batch)])
            index = index.to(videos.device).view(batch, 1, -1, 1, 1)
            window = videos.gather(2, index.expand(-1, videos.shape[1], -1, height, width))
            view = self.crop.apply_params(
                window, self.crop.sample_params(batch, height, width, generator)
            )
            views.append(self.flip.apply_params(view, flips))
        return tuple(views)

    def photometric(self, view: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Colour jitter, grayscale, blur and normalisation of one view (own draw per clip).

        The recipe calls this on every clip it encodes (the mixed clip and the hard
        negatives too), so that mixing happens on raw colours and each encoded clip gets
        its own colour augmentation, as FAME does.

        Shape:
            ``(B, C, T, H, W)`` in [0, 1] -> the same shape, normalised.
        """
        view = self.grayscale(self.jitter(view, generator), generator)
        if self.blur is not None:
            view = self.blur(view, generator)
        return self.normalize(view) if self.normalize is not None else view
