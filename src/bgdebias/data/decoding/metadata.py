"""What a video file holds, read from its container without decoding frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DecoderBackend = Literal["torchcodec", "pyav"]


@dataclass(frozen=True)
class VideoMetadata:
    """Stream facts of one video.

    Attributes:
        num_frames: Frames in the video stream (at least 1), counted from its packets without
            decoding them (torchcodec's exact mode; PyAV the same way), so both backends
            agree even where the header's count is wrong.
        fps: Average frame rate in frames per second, or ``None`` if the container does not
            give one.
        duration: Length in seconds, or ``None`` if unknown (then ``num_frames / fps`` when
            both are known). Where the header's frame count is wrong, ``duration`` and
            ``fps`` are timed from the packets the file holds.
        height: Frame height in pixels.
        width: Frame width in pixels.
        codec: Codec name as FFmpeg spells it (``"h264"``, ``"mpeg4"``, ``"vp9"``).
        backend: The backend that read it, ``"torchcodec"`` or ``"pyav"``.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from bgdebias.data import read_video_metadata, write_video
        >>> frames = torch.zeros(10, 32, 48, 3, dtype=torch.uint8)  # (T, H, W, 3)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     meta = read_video_metadata(write_video(f"{folder}/clip.mp4", frames, fps=25))
        >>> meta.num_frames, meta.fps, meta.duration, (meta.height, meta.width), meta.codec
        (10, 25.0, 0.4, (32, 48), 'h264')
    """

    num_frames: int
    fps: float | None
    duration: float | None
    height: int
    width: int
    codec: str
    backend: DecoderBackend
