"""Frame-index decoding with torchcodec (the default backend where it loads)."""

from __future__ import annotations

import functools
from typing import Any

from torch import Tensor

from bgdebias.data.video_metadata import VideoMetadata

#: Frames a file may lack against its header count before it counts as truncated (headers
#: and packet indexes of sound files can disagree by a frame or two).
_TRUNCATION_SLACK = 2


@functools.cache
def torchcodec_import_error() -> str | None:
    """``None`` if torchcodec and its FFmpeg libraries load, else why they do not."""
    try:
        import torchcodec.decoders  # noqa: F401
    except (ImportError, OSError, RuntimeError) as error:
        return f"{type(error).__name__}: {error}"
    return None


class TorchcodecVideo:
    """One open file; ``seek_mode="exact"`` so frame counts and indices are exact.

    A file whose content holds clearly fewer frames than its header promises (more than
    ``max(2, header // 10)`` missing) is refused as truncated.

    Args:
        path: Video file.
        num_threads: FFmpeg decoding threads.
    """

    def __init__(self, path: str, num_threads: int) -> None:
        from torchcodec.decoders import VideoDecoder  # type: ignore[attr-defined]

        self._decoder: Any = VideoDecoder(
            path, num_ffmpeg_threads=num_threads, seek_mode="exact", dimension_order="NCHW"
        )
        meta = self._decoder.metadata
        num_frames = int(meta.num_frames or 0)
        if num_frames < 1:
            raise ValueError("the video stream holds no frames")
        promised = int(meta.num_frames_from_header or 0)
        if promised - num_frames > max(_TRUNCATION_SLACK, promised // 10):
            raise ValueError(
                f"the container header promises {promised} frames but only {num_frames} are "
                "in the file (truncated or corrupt)"
            )
        fps = float(meta.average_fps) if meta.average_fps else None
        duration = float(meta.duration_seconds) if meta.duration_seconds else None
        if duration is None and fps:
            duration = num_frames / fps
        if meta.height is None or meta.width is None:
            raise ValueError("the video stream does not give its frame size")
        self.metadata = VideoMetadata(
            num_frames=num_frames,
            fps=fps,
            duration=duration,
            height=int(meta.height),
            width=int(meta.width),
            codec=str(meta.codec),
            backend="torchcodec",
        )

    def get_frames(self, indices: list[int]) -> Tensor:
        """Frames at ``indices`` (any order, repeats allowed). Shape: ``(N, C, H, W)``, uint8."""
        data: Tensor = self._decoder.get_frames_at(indices).data
        return data

    def close(self) -> None:
        """Drop the decoder (torchcodec frees it with the object)."""
        self._decoder = None
