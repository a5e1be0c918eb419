"""Ready-made clip pipelines: MoCo training augmentation and the evaluation transform."""

from __future__ import annotations

from collections.abc import Sequence

from bgdebias._validation import check_int
from bgdebias.data.batch_transforms import (
    ColorJitterClip,
    GaussianBlurClip,
    RandomGrayscaleClip,
    RandomHorizontalFlipClip,
    RandomResizedCropClip,
)
from bgdebias.data.transforms import (
    KINETICS_MEAN,
    KINETICS_STD,
    CenterCropClip,
    ClipCompose,
    NormalizeClip,
    ResizeShortSideClip,
    ToFloatClip,
)


def moco_clip_augmentation(
    size: int = 112,
    *,
    scale: tuple[float, float] = (0.2, 1.0),
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1),
    jitter_p: float = 0.8,
    grayscale_p: float = 0.2,
    blur_p: float = 0.5,
    flip_p: float = 0.5,
    mean: Sequence[float] = KINETICS_MEAN,
    std: Sequence[float] = KINETICS_STD,
) -> ClipCompose:
    """The MoCo v2 augmentation applied clip-consistently (one draw per clip, all frames).

    Steps: uint8 to float (floats pass through), random resized crop, horizontal flip, colour
    jitter, random grayscale, Gaussian blur, normalisation. Works on one clip on the CPU (in
    a dataset) or on a whole batch on the training device, each clip with its own draw; wrap
    it in :class:`~bgdebias.data.transforms.TwoViewTransform` for query and key views.

    The two views then flip independently, so half of the pairs show mirrored motions and
    instance discrimination learns to ignore left versus right. For direction-dependent
    classes (Something-Something's "from left to right", the synthetic motions) pass
    ``flip_p=0.0`` or use ``bgdebias.training.views.ClipViewAugmentation``, which
    shares one flip per video across its views (the pretraining recipe does).

    Args:
        size: Output side in pixels (112 for the R(2+1)D/R3D protocol).
        scale: Area range of the crop.
        jitter: Brightness, contrast, saturation and hue strengths.
        jitter_p: Probability of colour jitter per clip.
        grayscale_p: Probability of grayscale per clip.
        blur_p: Probability of blur per clip.
        flip_p: Probability of a horizontal flip per clip.
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
    brightness, contrast, saturation, hue = jitter
    return ClipCompose(
        [
            ToFloatClip(layout="CTHW"),
            RandomResizedCropClip(size, scale=scale),
            RandomHorizontalFlipClip(flip_p),
            ColorJitterClip(brightness, contrast, saturation, hue, p=jitter_p),
            RandomGrayscaleClip(grayscale_p),
            GaussianBlurClip(p=blur_p),
            NormalizeClip(mean, std),
        ]
    )


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
        resize: Short side before cropping; default ``round(size * 8 / 7)`` (128 for 112).
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
    short_side = round(size * 8 / 7) if resize is None else check_int(resize, "resize", minimum=1)
    return ClipCompose(
        [
            ToFloatClip(layout="CTHW"),
            ResizeShortSideClip(short_side),
            CenterCropClip(size),
            NormalizeClip(mean, std),
        ]
    )
