"""Video files: decode frames by index (torchcodec or PyAV), read metadata, write videos.

:class:`VideoReader` and :func:`decode_frames` read frames, :func:`read_video_metadata`
reads what a container holds without decoding, :func:`write_video` encodes frames (tests
and the synthetic dataset's export use it). Every failure to read a file raises
:class:`VideoDecodeError`. The backends' rules (fallback, header counts, short videos) are
described in :mod:`bgdebias.data.decoding.reader`; the once-per-file warnings go to the
logger ``bgdebias.data.decoding``.
"""

from bgdebias.data.decoding.errors import VideoDecodeError
from bgdebias.data.decoding.metadata import DecoderBackend, VideoMetadata
from bgdebias.data.decoding.reader import (
    BackendChoice,
    ShortVideoMode,
    VideoReader,
    apply_short_video,
    available_backends,
    decode_frames,
    read_video_metadata,
    resolve_backend,
)
from bgdebias.data.decoding.writer import SUPPORTED_CODECS, write_video

__all__ = [
    "SUPPORTED_CODECS",
    "BackendChoice",
    "DecoderBackend",
    "ShortVideoMode",
    "VideoDecodeError",
    "VideoMetadata",
    "VideoReader",
    "apply_short_video",
    "available_backends",
    "decode_frames",
    "read_video_metadata",
    "resolve_backend",
    "write_video",
]
