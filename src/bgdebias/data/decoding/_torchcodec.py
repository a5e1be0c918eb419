"""Frame-index decoding with torchcodec (the default backend where it loads)."""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

from torch import Tensor

from bgdebias.data.decoding.metadata import VideoMetadata


@functools.cache
def torchcodec_installed() -> bool:
    """Whether the ``torchcodec`` package is installed (loadable or not)."""
    return importlib.util.find_spec("torchcodec") is not None


@functools.cache
def torchcodec_load_error() -> str | None:
    """``None`` if torchcodec and the FFmpeg libraries it needs load here, else why not.

    Probed once per process. Importing is not enough: recent torchcodec imports without
    FFmpeg and only fails ("Could not load libtorchcodec") when a decoder is created.
    """
    try:
        _load_torchcodec()
    except Exception as error:  # ImportError, OSError from the loader, RuntimeError, ...
        return _first_sentence(error)
    return None


def _load_torchcodec() -> None:
    import torchcodec.decoders  # noqa: F401  (older torchcodec fails here without FFmpeg)

    try:
        from torchcodec._core import ops
    except ImportError:
        return  # a torchcodec that loads its FFmpeg libraries on import, which just worked
    load_core_libraries = getattr(ops, "load_core_libraries", None)
    if load_core_libraries is not None:
        load_core_libraries()  # cached by torchcodec on success; raises without FFmpeg


def _first_sentence(error: BaseException) -> str:
    """``"Type: first sentence"`` of an error (torchcodec's load error runs to pages)."""
    lines = str(error).strip().splitlines()
    text = lines[0].strip() if lines else "no message"
    return f"{type(error).__name__}: {text.split('. ')[0]}"


class TorchcodecVideo:
    """One open file; ``seek_mode="exact"`` so frame counts and indices are exact.

    The frame count is the frames the file holds (counted from its packets), whatever its
    header says; :attr:`header_frames` keeps the header's count.

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
        self.header_frames: int | None = int(meta.num_frames_from_header or 0) or None
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
