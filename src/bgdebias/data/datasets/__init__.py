"""Map-style datasets of public video benchmarks in their official layouts.

Every dataset returns :class:`VideoSample` items (clip, label, video_index, path), decodes only
the frames its ``clip_sampler`` asks for, and indexes its split from the annotation files
without opening a video.
"""

from bgdebias.data.datasets._index import AnnotationError, VideoIndex
from bgdebias.data.datasets.base import (
    ClipDtype,
    OnErrorPolicy,
    VideoClipDataset,
    VideoDatasetOptions,
    VideoSample,
)
from bgdebias.data.datasets.diving48 import Diving48
from bgdebias.data.datasets.folder import VIDEO_EXTENSIONS, VideoFolder
from bgdebias.data.datasets.hmdb51 import HMDB51
from bgdebias.data.datasets.kinetics import Kinetics, kinetics_file_name
from bgdebias.data.datasets.something_something import SomethingSomethingV2, template_label
from bgdebias.data.datasets.ucf101 import UCF101

__all__ = [
    "HMDB51",
    "UCF101",
    "VIDEO_EXTENSIONS",
    "AnnotationError",
    "ClipDtype",
    "Diving48",
    "Kinetics",
    "OnErrorPolicy",
    "SomethingSomethingV2",
    "VideoClipDataset",
    "VideoDatasetOptions",
    "VideoFolder",
    "VideoIndex",
    "VideoSample",
    "kinetics_file_name",
    "template_label",
]
