"""Clip transforms: one clip ``(C, T, H, W)`` or a batch ``(B, C, T, H, W)``, any device.

Modules by job: :mod:`~bgdebias.data.transforms.base` (the call protocol and the base of
the random transforms), :mod:`~bgdebias.data.transforms.geometric` (crops, flip, resize),
:mod:`~bgdebias.data.transforms.colour` (float conversion, normalisation, jitter,
grayscale), :mod:`~bgdebias.data.transforms.blur`, :mod:`~bgdebias.data.transforms.compose`
(chains, two views, torchvision adapter), :mod:`~bgdebias.data.transforms.presets` (the
MoCo and evaluation pipelines and their strengths) and
:mod:`~bgdebias.data.transforms.views` (the views of a training step).
"""

from bgdebias.data.transforms.base import ClipTransform, RandomClipTransform
from bgdebias.data.transforms.blur import BlurParams, GaussianBlurClip
from bgdebias.data.transforms.colour import (
    KINETICS_MEAN,
    KINETICS_STD,
    ColorJitterClip,
    ColorJitterParams,
    FrameLayout,
    NormalizeClip,
    RandomGrayscaleClip,
    ToFloatClip,
)
from bgdebias.data.transforms.compose import ClipCompose, TorchvisionClipTransform, TwoViewTransform
from bgdebias.data.transforms.geometric import (
    CenterCropClip,
    CropParams,
    RandomHorizontalFlipClip,
    RandomResizedCropClip,
    ResizeShortSideClip,
)
from bgdebias.data.transforms.presets import (
    AugmentationStrengths,
    eval_clip_transform,
    moco_clip_augmentation,
)
from bgdebias.data.transforms.views import ClipViewAugmentation

__all__ = [
    "KINETICS_MEAN",
    "KINETICS_STD",
    "AugmentationStrengths",
    "BlurParams",
    "CenterCropClip",
    "ClipCompose",
    "ClipTransform",
    "ClipViewAugmentation",
    "ColorJitterClip",
    "ColorJitterParams",
    "CropParams",
    "FrameLayout",
    "GaussianBlurClip",
    "NormalizeClip",
    "RandomClipTransform",
    "RandomGrayscaleClip",
    "RandomHorizontalFlipClip",
    "RandomResizedCropClip",
    "ResizeShortSideClip",
    "ToFloatClip",
    "TorchvisionClipTransform",
    "TwoViewTransform",
    "eval_clip_transform",
    "moco_clip_augmentation",
]
