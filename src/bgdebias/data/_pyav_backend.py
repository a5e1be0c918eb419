"""Frame-index decoding with PyAV (the fallback backend)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bgdebias.data.video_metadata import VideoMetadata


class PyAVVideo:
    """One open file; frames are decoded in order from the start up to the last one asked.

    Frame ``i`` is the ``i``-th frame PyAV decodes (presentation order), which is what
    torchcodec's exact mode returns for frame index ``i``.

    Args:
        path: Video file.
        num_threads: Decoder threads (``1`` decodes in the calling thread only).
    """

    def __init__(self, path: str, num_threads: int) -> None:
        self._path = path
        self._num_threads = num_threads
        self._container: Any = None
        self._container = self._open()
        stream = self._container.streams.video[0]
        num_frames = int(stream.frames or 0)
        if num_frames < 1:
            num_frames = self._count_packets()
            stream = self._container.streams.video[0]  # the container was reopened
        if num_frames < 1:
            raise ValueError("the video stream holds no frames")
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else None
        duration: float | None = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * Fraction(stream.time_base))
        elif self._container.duration is not None:
            duration = self._container.duration / 1_000_000
        elif fps:
            duration = num_frames / fps
        context = stream.codec_context
        self.metadata = VideoMetadata(
            num_frames=num_frames,
            fps=fps,
            duration=duration,
            height=int(context.height),
            width=int(context.width),
            codec=str(context.name),
            backend="pyav",
        )
        self._fresh = True

    def _open(self) -> Any:
        import av

        container = av.open(self._path, metadata_errors="ignore")
        if not container.streams.video:
            container.close()
            raise ValueError("the file holds no video stream")
        stream = container.streams.video[0]
        stream.thread_count = self._num_threads
        stream.thread_type = "AUTO" if self._num_threads > 1 else "SLICE"
        return container

    def _count_packets(self) -> int:
        """Video packets with a payload, read without decoding (then reopen for decoding)."""
        count = sum(
            1 for packet in self._container.demux(video=0) if packet.size and packet.size > 0
        )
        self._container.close()
        self._container = self._open()
        return count

    def get_frames(self, indices: list[int]) -> Tensor:
        """Frames at sorted, unique ``indices``. Shape: ``(N, C, H, W)``, uint8.

        Raises:
            ValueError: If the stream ends before the last index (a truncated file).
        """
        if not self._fresh:
            self._container.close()
            self._container = self._open()
        self._fresh = False
        wanted = iter(indices)
        target = next(wanted, None)
        frames: list[np.ndarray] = []
        decoded = 0
        for frame in self._container.decode(video=0):
            if decoded == target:
                frames.append(frame.to_ndarray(format="rgb24"))
                target = next(wanted, None)
                if target is None:
                    break
            decoded += 1
        if target is not None:
            raise ValueError(
                f"the stream ended after {decoded} decoded frames but frame {target} was "
                f"requested (the header promised {self.metadata.num_frames}; truncated file?)"
            )
        return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)

    def close(self) -> None:
        """Close the container."""
        if self._container is not None:
            self._container.close()
            self._container = None
