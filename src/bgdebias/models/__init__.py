"""Video backbones that expose the feature map of a chosen stage.

:func:`video_backbone` builds torchvision's ``r3d_18``, ``mc3_18``, ``r2plus1d_18`` and
``s3d`` (random init by default) or the CPU-friendly :class:`Small3DCNN`; each returns a
:class:`BackboneOutput` with the stage's feature map and the pooled representation.
"""

from bgdebias.models.backbone import VideoBackbone
from bgdebias.models.batch_statistics import normalise_with, record_batch_statistics
from bgdebias.models.factory import BACKBONE_STAGES, video_backbone
from bgdebias.models.frame_differences import FrameDifferences
from bgdebias.models.output import BackboneOutput
from bgdebias.models.small3d import Small3DCNN
from bgdebias.models.temporal_padding import one_frame_unsafe_layers, replicate_temporal_padding

__all__ = [
    "BACKBONE_STAGES",
    "BackboneOutput",
    "FrameDifferences",
    "Small3DCNN",
    "VideoBackbone",
    "normalise_with",
    "one_frame_unsafe_layers",
    "record_batch_statistics",
    "replicate_temporal_padding",
    "video_backbone",
]
