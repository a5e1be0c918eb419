"""Frame-index decoding with PyAV (the fallback backend)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from bgdebias.data.decoding.metadata import VideoMetadata


class _PacketScan(NamedTuple):
    """What one pass over a stream's packets finds, without decoding them."""

    frames: int  #: packets with a payload: the frames the file holds
    start: int | None  #: earliest timestamp, in the stream's time base
    end: int | None  #: latest timestamp plus that packet's duration


class PyAVVideo:
    """One open file; frames are decoded in order from the start up to the last one asked.

    Frame ``i`` is the ``i``-th frame PyAV decodes (presentation order), which is what
    torchcodec's exact mode returns for frame index ``i``. The frame count is the packets
    the file holds (read without decoding, as torchcodec's exact mode counts them), whatever
    its header says; :attr:`header_frames` keeps the header's count.

    Args:
        path: Video file.
        num_threads: Decoder threads (``1`` decodes in the calling thread only).
    """

    def __init__(self, path: str, num_threads: int) -> None:
        self._path = path
        self._num_threads = num_threads
        self._container: Any = None
        self._container = self._open()
        header = int(self._container.streams.video[0].frames or 0)
        self.header_frames: int | None = header or None
        scan = self._scan_packets()
        if scan.frames < 1:
            self.close()
            raise ValueError("the video stream holds no frames")
        stream = self._container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else None
        duration: float | None = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * Fraction(stream.time_base))
        elif self._container.duration is not None:
            duration = self._container.duration / 1_000_000
        elif fps:
            duration = scan.frames / fps
        span = _span(scan, stream.time_base)
        if self.header_frames not in (None, scan.frames) and span is not None:
            # The header's length is not the file's: time the frames it holds, as torchcodec's
            # exact mode does (from the first packet to the end of the last one).
            duration, fps = span, scan.frames / span
        context = stream.codec_context
        self.metadata = VideoMetadata(
            num_frames=scan.frames,
            fps=fps,
            duration=duration,
            height=int(context.height),
            width=int(context.width),
            codec=str(context.name),
            backend="pyav",
        )
        self._fresh = False  # the scan read the container to its end

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

    def _scan_packets(self) -> _PacketScan:
        """Read the video packets to the end of the container, without decoding them."""
        frames, start, end = 0, None, None
        for packet in self._container.demux(video=0):
            if not packet.size or getattr(packet, "is_discard", False):
                continue  # the flushing packet at the end, or one the demuxer says to drop
            frames += 1
            time = packet.pts if packet.pts is not None else packet.dts
            if time is not None:
                start = time if start is None else min(start, time)
                stop = time + (packet.duration or 0)
                end = stop if end is None else max(end, stop)
        return _PacketScan(frames, start, end)

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
                f"requested ({self.metadata.num_frames} were counted in the file; corrupt data?)"
            )
        return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)

    def close(self) -> None:
        """Close the container."""
        if self._container is not None:
            self._container.close()
            self._container = None


def _span(scan: _PacketScan, time_base: Any) -> float | None:
    """Seconds from the first packet to the end of the last one, if the packets tell."""
    if scan.start is None or scan.end is None or scan.end <= scan.start or time_base is None:
        return None
    return float((scan.end - scan.start) * Fraction(time_base))
