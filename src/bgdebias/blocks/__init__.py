"""The debiasing blocks: decoupler, mixer and motion-aware decomposition."""

from bgdebias.blocks.decoupler import DecoupledClip, StaticDynamicDecoupler
from bgdebias.blocks.fame_mask import fame_foreground_mask
from bgdebias.blocks.mixer import MixedBatch, SemiNegativePairMixer
from bgdebias.blocks.motion_aware import MotionAwareDecomposition, MotionDecomposition
from bgdebias.blocks.motion_energy import (
    MIN_FRAME_SIDE,
    auto_blur_kernel_size,
    frame_difference_energy,
    gaussian_blur_maps,
    minmax_normalize_maps,
    otsu_mask,
    otsu_threshold,
    quantile_soft_mask,
    static_residual_energy,
    top_fraction_mask,
)
from bgdebias.blocks.partners import choose_partners, random_derangement

__all__ = [
    "MIN_FRAME_SIDE",
    "DecoupledClip",
    "MixedBatch",
    "MotionAwareDecomposition",
    "MotionDecomposition",
    "SemiNegativePairMixer",
    "StaticDynamicDecoupler",
    "auto_blur_kernel_size",
    "choose_partners",
    "fame_foreground_mask",
    "frame_difference_energy",
    "gaussian_blur_maps",
    "minmax_normalize_maps",
    "otsu_mask",
    "otsu_threshold",
    "quantile_soft_mask",
    "random_derangement",
    "static_residual_energy",
    "top_fraction_mask",
]
