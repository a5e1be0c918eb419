"""bgdebias: building blocks that remove background bias from contrastive video SSL."""

from bgdebias._version import __version__
from bgdebias.blocks import (
    DecoupledClip,
    MixedBatch,
    MotionAwareDecomposition,
    MotionDecomposition,
    SemiNegativePairMixer,
    StaticDynamicDecoupler,
)
from bgdebias.losses import DualBackgroundLoss, DualBackgroundLossOutput, InfoNCELoss, info_nce

__all__ = [
    "DecoupledClip",
    "DualBackgroundLoss",
    "DualBackgroundLossOutput",
    "InfoNCELoss",
    "MixedBatch",
    "MotionAwareDecomposition",
    "MotionDecomposition",
    "SemiNegativePairMixer",
    "StaticDynamicDecoupler",
    "__version__",
    "info_nce",
]
