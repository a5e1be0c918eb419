"""The functions behind the blocks: motion energy, masks, blur, partner choice.

The blocks (:class:`~bgdebias.blocks.StaticDynamicDecoupler`,
:class:`~bgdebias.blocks.SemiNegativePairMixer`,
:class:`~bgdebias.blocks.MotionAwareDecomposition`) call these; use them to build a variant
or to inspect what a block computes.
"""

from bgdebias.blocks.motion_energy import (
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
    "auto_blur_kernel_size",
    "choose_partners",
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
