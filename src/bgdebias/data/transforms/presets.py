"""Ready-made clip pipelines and the one place their strengths are written.

:class:`AugmentationStrengths` holds what a MoCo view augmentation draws (crop area, flip,
colour jitter, grayscale, blur); ``MOCO_V2_STRENGTHS`` are MoCo v2's values and
``PRETRAIN_VIEW_STRENGTHS`` the pretraining recipe's (larger crops, no blur). Both
pipelines read them: :func:`moco_clip_augmentation` (one view per call, any clip, e.g. in a
dataset) and :class:`~bgdebias.data.ClipViewAugmentation` (the two views of a MoCo step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bgdebias._validation import check_int, check_non_negative, check_unit
from bgdebias.data.transforms._input import check_interval
from bgdebias.data.transforms.blur import GaussianBlurClip
from bgdebias.data.transforms.colour import (
    KINETICS_MEAN,
    KINETICS_STD,
    ColorJitterClip,
    NormalizeClip,
    RandomGrayscaleClip,
    ToFloatClip,
)
from bgdebias.data.transforms.compose import ClipCompose
from bgdebias.data.transforms.geometric import (
    CenterCropClip,
    RandomHorizontalFlipClip,
    RandomResizedCropClip,
    ResizeShortSideClip,
)


@dataclass(frozen=True, kw_only=True)
class AugmentationStrengths:
    """The random draws of a MoCo view augmentation (defaults: MoCo v2's).

    Attributes:
        scale: Area range of the random resized crop, as a fraction of the frame.
        flip_p: Probability of a horizontal flip.
        jitter: Colour jitter strengths ``(brightness, contrast, saturation, hue)``.
        jitter_p: Probability of colour jitter.
        grayscale_p: Probability of grayscale.
        blur_p: Probability of Gaussian blur; ``0.0`` leaves the blur step out (no draws).

    Raises:
        ValueError: If a probability is outside [0, 1], ``scale`` is not an interval in
            [0, 1], or a jitter strength is negative (or the hue above 0.5).

    Example:
        >>> import dataclasses
        >>> MOCO_V2_STRENGTHS.scale, MOCO_V2_STRENGTHS.jitter, MOCO_V2_STRENGTHS.blur_p
        ((0.2, 1.0), (0.4, 0.4, 0.4, 0.1), 0.5)
        >>> no_flip = dataclasses.replace(MOCO_V2_STRENGTHS, flip_p=0.0)  # direction matters
        >>> no_flip.flip_p, no_flip.jitter_p
        (0.0, 0.8)
    """

    scale: tuple[float, float] = (0.2, 1.0)
    flip_p: float = 0.5
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_p: float = 0.8
    grayscale_p: float = 0.2
    blur_p: float = 0.5

    def __post_init__(self) -> None:
        check_interval(self.scale, "scale", minimum=0.0, maximum=1.0)
        for name in ("flip_p", "jitter_p", "grayscale_p", "blur_p"):
            check_unit(getattr(self, name), name)
        if not isinstance(self.jitter, Sequence) or len(self.jitter) != 4:
            raise TypeError(
                "`jitter` must be 4 strengths (brightness, contrast, saturation, hue), "
                f"got {self.jitter!r}"
            )
        for value in self.jitter:
            check_non_negative(value, "jitter")
        if self.jitter[3] > 0.5:
            raise ValueError(f"`jitter`'s hue must be in [0, 0.5], got {self.jitter[3]!r}")

    def colour_jitter(self) -> ColorJitterClip:
        """The colour jitter these strengths describe."""
        brightness, contrast, saturation, hue = self.jitter
        return ColorJitterClip(
            brightness=brightness,
            contrast=contrast,
            saturation=saturation,
            hue=hue,
            p=self.jitter_p,
        )


#: MoCo v2's augmentation: crops of 20-100% of the frame, flip, jitter 0.4/0.4/0.4/0.1 with
#: probability 0.8, grayscale 0.2, blur 0.5.
MOCO_V2_STRENGTHS = AugmentationStrengths()

#: The pretraining recipe's views: MoCo v2's without the blur, crops of 40-100% of the frame
#: (the configuration sets the crop's lower bound and the flip per dataset).
PRETRAIN_VIEW_STRENGTHS = AugmentationStrengths(scale=(0.4, 1.0), blur_p=0.0)


def resize_side_for_crop(size: int) -> int:
    """The short side a frame is resized to before a centre crop of ``size``: 8/7 of it.

    The R(2+1)D/R3D protocol resizes to 128 and crops 112; evaluation and the real-data
    pretraining datasets follow it at every size.

    Args:
        size: Side of the crop in pixels.

    Returns:
        ``round(size * 8 / 7)``.

    Example:
        >>> resize_side_for_crop(112), resize_side_for_crop(32)
        (128, 37)
    """
    return round(check_int(size, "size", minimum=1) * 8 / 7)


def moco_clip_augmentation(
    size: int = 112,
    *,
    strengths: AugmentationStrengths = MOCO_V2_STRENGTHS,
    mean: Sequence[float] = KINETICS_MEAN,
    std: Sequence[float] = KINETICS_STD,
) -> ClipCompose:
    """One MoCo view of each clip, clip-consistently (one draw per clip, all frames).

    Steps: uint8 to float (floats pass through), random resized crop, horizontal flip, colour
    jitter, random grayscale, Gaussian blur (left out when ``strengths.blur_p`` is 0),
    normalisation. Works on one clip on the CPU (in a dataset) or on a whole batch on the
    training device, each clip with its own draw.

    For the two views of a MoCo step prefer :class:`~bgdebias.data.ClipViewAugmentation`,
    which shares one flip per video between its views: two calls of this pipeline flip
    independently, so half of the pairs show mirrored motions and instance discrimination
    learns to ignore left versus right.

    Args:
        size: Output side in pixels (112 for the R(2+1)D/R3D protocol).
        strengths: What is drawn (default ``MOCO_V2_STRENGTHS``).
        mean: Normalisation mean per channel.
        std: Normalisation standard deviation per channel.

    Returns:
        The pipeline. Shape: ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in (``uint8`` or float
        in [0, 1]); ``(..., C, T, size, size)`` float out.

    Example:
        >>> import torch
        >>> augment = moco_clip_augmentation(32)
        >>> augment(torch.rand(3, 4, 40, 48), generator=torch.Generator().manual_seed(0)).shape
        torch.Size([3, 4, 32, 32])
    """
    if not isinstance(strengths, AugmentationStrengths):
        raise TypeError(
            f"`strengths` must be an AugmentationStrengths, got {type(strengths).__name__}"
        )
    steps = [
        ToFloatClip(layout="CTHW"),
        RandomResizedCropClip(size, scale=strengths.scale),
        RandomHorizontalFlipClip(p=strengths.flip_p),
        strengths.colour_jitter(),
        RandomGrayscaleClip(p=strengths.grayscale_p),
    ]
    if strengths.blur_p > 0:
        steps.append(GaussianBlurClip(p=strengths.blur_p))
    return ClipCompose([*steps, NormalizeClip(mean, std)])


def eval_clip_transform(
    size: int = 112,
    *,
    resize: int | None = None,
    mean: Sequence[float] = KINETICS_MEAN,
    std: Sequence[float] = KINETICS_STD,
) -> ClipCompose:
    """The test-time transform: resize the short side, centre crop, normalise.

    Args:
        size: Output side in pixels.
        resize: Short side before cropping; default :func:`resize_side_for_crop` of
            ``size``, 8/7 of it (128 for 112).
        mean: Normalisation mean per channel.
        std: Normalisation standard deviation per channel.

    Returns:
        The pipeline. Shape: ``(C, T, H, W)`` or ``(B, C, T, H, W)`` in (``uint8`` or float
        in [0, 1]); ``(..., C, T, size, size)`` float out.

    Example:
        >>> import torch
        >>> transform = eval_clip_transform(32)
        >>> [type(step).__name__ for step in transform.transforms]
        ['ToFloatClip', 'ResizeShortSideClip', 'CenterCropClip', 'NormalizeClip']
        >>> transform.transforms[1].size  # short side round(32 * 8 / 7) before the crop
        37
        >>> clip = torch.randint(0, 256, (3, 4, 48, 64), dtype=torch.uint8)  # (C, T, H, W)
        >>> out = transform(clip)
        >>> out.shape, out.dtype, torch.equal(transform(clip), out)  # deterministic
        (torch.Size([3, 4, 32, 32]), torch.float32, True)
    """
    check_int(size, "size", minimum=1)
    short_side = (
        resize_side_for_crop(size) if resize is None else check_int(resize, "resize", minimum=1)
    )
    return ClipCompose(
        [
            ToFloatClip(layout="CTHW"),
            ResizeShortSideClip(short_side),
            CenterCropClip(size),
            NormalizeClip(mean, std),
        ]
    )
