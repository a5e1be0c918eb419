"""The debiasing blocks: decoupler, mixer and motion-aware decomposition.

The functions they are built from (motion energy, masks, partner choice) are in
:mod:`bgdebias.blocks.functional`.
"""

from bgdebias.blocks.decoupler import DecoupledClip, StaticDynamicDecoupler
from bgdebias.blocks.fame_mask import fame_foreground_mask
from bgdebias.blocks.mixer import MixedBatch, SemiNegativePairMixer
from bgdebias.blocks.motion_aware import MotionAwareDecomposition, MotionDecomposition
from bgdebias.blocks.motion_energy import MIN_FRAME_SIDE

__all__ = [
    "MIN_FRAME_SIDE",
    "DecoupledClip",
    "MixedBatch",
    "MotionAwareDecomposition",
    "MotionDecomposition",
    "SemiNegativePairMixer",
    "StaticDynamicDecoupler",
    "fame_foreground_mask",
]
