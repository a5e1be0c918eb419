"""bgdebias: building blocks that remove background bias from contrastive video SSL."""

from typing import TYPE_CHECKING

from bgdebias._lazy import lazy_exports
from bgdebias._version import __version__

if TYPE_CHECKING:
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

# Imported on first use: the command line's --help never needs torch.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(
            [
                "DecoupledClip",
                "MixedBatch",
                "MotionAwareDecomposition",
                "MotionDecomposition",
                "SemiNegativePairMixer",
                "StaticDynamicDecoupler",
            ],
            "bgdebias.blocks",
        ),
        **dict.fromkeys(
            ["DualBackgroundLoss", "DualBackgroundLossOutput", "InfoNCELoss", "info_nce"],
            "bgdebias.losses",
        ),
    },
)
