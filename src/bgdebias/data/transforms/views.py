"""Augmented views of each video (two for a MoCo step), drawn from one generator."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bgdebias._validation import check_clip, check_int, check_unit
from bgdebias.data.batch_transforms import (
    ColorJitterClip,
    RandomGrayscaleClip,
    RandomHorizontalFlipClip,
    RandomResizedCropClip,
)
from bgdebias.data.sampling import RandomClipSampler
from bgdebias.data.transforms import NormalizeClip
from bgdebias.training.config import PretrainConfig, require


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
        scale: Area range of the random resized crop.
        flip_p: Probability of a (shared) horizontal flip per video.
        jitter_p: Probability of colour jitter per view (strengths 0.4, 0.4, 0.4, 0.1).
        grayscale_p: Probability of grayscale per view.
        normalize: Apply the Kinetics normalisation last.
        num_views: Views per video (2 for MoCo, 1 for supervised training).

    Shape:
        videos ``(B, C, T_video, H, W)`` float in [0, 1] -> ``num_views`` tensors
        ``(B, C, num_frames, size, size)``.
    """

    def __init__(
        self,
        *,
        num_frames: int,
        size: int,
        stride: int = 1,
        scale: tuple[float, float] = (0.4, 1.0),
        flip_p: float = 0.5,
        jitter_p: float = 0.8,
        grayscale_p: float = 0.2,
        normalize: bool = True,
        num_views: int = 2,
    ) -> None:
        super().__init__()
        check_int(num_frames, "num_frames", minimum=1)
        self.windows = RandomClipSampler(num_frames, stride=check_int(stride, "stride", minimum=1))
        self.crop = RandomResizedCropClip(check_int(size, "size", minimum=1), scale=scale)
        self.flip = RandomHorizontalFlipClip(check_unit(flip_p, "flip_p"))
        self.jitter = ColorJitterClip(0.4, 0.4, 0.4, 0.1, p=jitter_p)
        self.grayscale = RandomGrayscaleClip(grayscale_p)
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
        """Colour jitter, grayscale and normalisation of one view (own draw per clip).

        The recipe calls this on every clip it encodes (the mixed clip and the hard
        negatives too), so that mixing happens on raw colours and each encoded clip gets
        its own colour augmentation, as FAME does.

        Shape:
            ``(B, C, T, H, W)`` in [0, 1] -> the same shape, normalised.
        """
        view = self.grayscale(self.jitter(view, generator), generator)
        return self.normalize(view) if self.normalize is not None else view


def view_augmentation(config: PretrainConfig, *, num_views: int = 2) -> ClipViewAugmentation:
    """The views a resolved :class:`PretrainConfig` asks for (frames, crop, flip, jitter).

    Args:
        config: A resolved configuration (see :meth:`PretrainConfig.resolved`).
        num_views: 2 for MoCo, 1 for supervised training.

    Returns:
        The augmentation module.
    """
    return ClipViewAugmentation(
        num_frames=require(config.num_frames, "num_frames"),
        size=require(config.size, "size"),
        stride=config.frame_stride,
        scale=(require(config.min_crop_scale, "min_crop_scale"), 1.0),
        flip_p=require(config.flip_p, "flip_p"),
        jitter_p=config.jitter_p,
        num_views=num_views,
    )
