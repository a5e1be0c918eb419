"""What a video file holds, read from its container without decoding frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DecoderBackend = Literal["torchcodec", "pyav"]


@dataclass(frozen=True)
class VideoMetadata:
    """Stream facts of one video.

    Attributes:
        num_frames: Frames in the video stream (at least 1). torchcodec counts them from the
            container index (exact); PyAV reads the header and, where the container does not
            record it (WebM, MKV), counts the packets without decoding them.
        fps: Average frame rate in frames per second, or ``None`` if the container does not
            give one.
        duration: Length in seconds, or ``None`` if unknown (then ``num_frames / fps`` when
            both are known).
        height: Frame height in pixels.
        width: Frame width in pixels.
        codec: Codec name as FFmpeg spells it (``"h264"``, ``"mpeg4"``, ``"vp9"``).
        backend: The backend that read it, ``"torchcodec"`` or ``"pyav"``.
    """

    num_frames: int
    fps: float | None
    duration: float | None
    height: int
    width: int
    codec: str
    backend: DecoderBackend
