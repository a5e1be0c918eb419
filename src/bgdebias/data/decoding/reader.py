"""Decode frames of a video file by index, with torchcodec or PyAV, and read its metadata.

torchvision 0.28+ no longer decodes video. :class:`VideoReader` uses torchcodec when it
loads with its FFmpeg libraries (``backend="auto"``), else PyAV; either can be forced.
Both return the same frames for the same indices: ``uint8`` frames of shape
``(T, C, H, W)``, RGB. Convert them to a float clip ``(C, T, H, W)`` in [0, 1] with
:func:`~bgdebias.data.transforms.to_float_clip` (the datasets do).

Whether torchcodec loads is probed once per process. Where it is installed but cannot load
(no FFmpeg shared libraries), ``"auto"`` decodes with PyAV and logs one warning saying how
to get torchcodec working. Under ``"auto"``, a file torchcodec cannot open or decode is
read with PyAV instead (one warning naming the file) when PyAV can read it.

Both backends count the frames a file holds (its packets, without decoding them), not the
count its header gives: a file whose header promises more frames than it holds, or fewer,
gives the frames it holds, with one warning naming the file (when the counts differ by more
than ``max(2, header // 10)`` frames). A truncated file thus gives its frames up to the cut;
requesting a frame whose data the cut broke raises.

Every failure to read a file (missing, a directory, empty, not a video, corrupt) raises
:class:`~bgdebias.data.VideoDecodeError` naming the file and the cause.
Files are checked with ``os.stat`` before FFmpeg sees them, and nothing is retried beyond
the one PyAV attempt of ``"auto"``, so a bad file fails fast instead of hanging.

Frame indices past the end of the video follow ``short_video``:

- ``"error"`` (default here): raise ``ValueError`` naming the valid range.
- ``"loop"``: wrap, index ``i`` reads frame ``i % num_frames`` (the video plays in a loop).
- ``"repeat_last"``: clamp, every index past the end reads the last frame.

Negative indices are always an error.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from types import TracebackType
from typing import Literal, Protocol

import torch
from torch import Tensor

from bgdebias._validation import check_choice, check_int
from bgdebias.data.decoding import _notices as notices
from bgdebias.data.decoding._pyav import PyAVVideo
from bgdebias.data.decoding._torchcodec import (
    TorchcodecVideo,
    torchcodec_installed,
    torchcodec_load_error,
)
from bgdebias.data.decoding.errors import VideoDecodeError
from bgdebias.data.decoding.metadata import DecoderBackend, VideoMetadata

BackendChoice = Literal["torchcodec", "pyav", "auto"]
ShortVideoMode = Literal["loop", "repeat_last", "error"]

_BACKENDS = ("torchcodec", "pyav", "auto")
_SHORT_VIDEO_MODES = ("loop", "repeat_last", "error")


class _OpenVideo(Protocol):
    metadata: VideoMetadata
    header_frames: int | None

    def get_frames(self, indices: list[int]) -> Tensor: ...

    def close(self) -> None: ...


def _pyav_import_error() -> str | None:
    try:
        import av  # noqa: F401
    except ImportError as error:
        return f"{type(error).__name__}: {error}"
    return None


def available_backends() -> tuple[DecoderBackend, ...]:
    """The decoding backends that load here, in the order ``"auto"`` tries them.

    torchcodec counts only if its FFmpeg-linked core library loads (probed once per process).

    Returns:
        A subset of ``("torchcodec", "pyav")``.

    Example:
        >>> backends = available_backends()  # with bgdebias[video]: both
        >>> "pyav" in backends, resolve_backend("auto") == backends[0]  # "auto" takes the first
        (True, True)
    """
    found: list[DecoderBackend] = []
    if torchcodec_load_error() is None:
        found.append("torchcodec")
    if _pyav_import_error() is None:
        found.append("pyav")
    return tuple(found)


def resolve_backend(backend: BackendChoice = "auto") -> DecoderBackend:
    """The backend that ``backend`` selects here.

    Args:
        backend: ``"torchcodec"``, ``"pyav"`` or ``"auto"`` (torchcodec if it loads, else PyAV;
            where torchcodec is installed but cannot load, one warning says so, once).

    Returns:
        ``"torchcodec"`` or ``"pyav"``.

    Raises:
        ValueError: If ``backend`` is not one of the three choices.
        ImportError: If the backend asked for (or, for ``"auto"``, both) cannot load.

    Example:
        >>> resolve_backend("pyav")
        'pyav'
        >>> resolve_backend() in ("torchcodec", "pyav")  # "auto": torchcodec if it loads
        True
        >>> resolve_backend("ffmpeg")
        Traceback (most recent call last):
            ...
        ValueError: `backend` must be one of 'torchcodec', 'pyav', 'auto'; got 'ffmpeg'
    """
    check_choice(backend, "backend", _BACKENDS)
    torchcodec_problem: str | None = None
    if backend in ("torchcodec", "auto"):
        torchcodec_problem = torchcodec_load_error()
        if torchcodec_problem is None:
            return "torchcodec"
        if backend == "torchcodec":
            raise ImportError(
                f"backend='torchcodec' needs torchcodec and FFmpeg's shared libraries "
                f"(pip install torchcodec; apt-get install ffmpeg): {torchcodec_problem}"
            )
    problem = _pyav_import_error()
    if problem is not None:
        raise ImportError(
            f"no video decoding backend loads: install torchcodec (with FFmpeg) or PyAV "
            f"(pip install 'bgdebias[video]'); PyAV: {problem}"
        )
    if torchcodec_problem is not None and torchcodec_installed():
        notices.warn_torchcodec_unloadable(torchcodec_problem)
    return "pyav"


def _check_readable_file(path: str) -> None:
    """Raise :class:`VideoDecodeError` unless ``path`` is a non-empty regular file."""
    try:
        info = os.stat(path)
    except FileNotFoundError as error:
        raise VideoDecodeError(path, "no such file", error) from error
    except OSError as error:
        raise VideoDecodeError(path, f"cannot stat the file ({error})", error) from error
    if stat.S_ISDIR(info.st_mode):
        raise VideoDecodeError(path, "it is a directory, not a video file")
    if not stat.S_ISREG(info.st_mode):
        raise VideoDecodeError(path, "it is not a regular file")
    if info.st_size == 0:
        raise VideoDecodeError(path, "the file is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise VideoDecodeError(path, "the file is not readable (permission denied)")


def _frame_indices(indices: Sequence[int] | Tensor) -> Tensor:
    """``indices`` as a 1D int64 tensor, or ``TypeError``/``ValueError``."""
    if isinstance(indices, Tensor):
        if indices.is_floating_point() or indices.is_complex() or indices.dtype == torch.bool:
            raise TypeError(f"`indices` must hold integers, got dtype {indices.dtype}")
        tensor = indices.long()
    else:
        values = list(indices)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise TypeError(f"`indices` must be a sequence of ints, got {indices!r}")
        tensor = torch.tensor(values, dtype=torch.long)
    if tensor.ndim != 1:
        raise ValueError(
            f"`indices` must be 1D (T,), got shape {tuple(tensor.shape)}; flatten clips first"
        )
    if tensor.numel() == 0:
        raise ValueError("`indices` must name at least one frame, got none")
    return tensor


def apply_short_video(indices: Tensor, num_frames: int, *, short_video: ShortVideoMode) -> Tensor:
    """Map frame indices into ``[0, num_frames)`` following the ``short_video`` policy.

    Args:
        indices: Frame indices, non-negative. Shape: any, int64.
        num_frames: Frames in the video, at least 1.
        short_video: ``"loop"`` (wrap), ``"repeat_last"`` (clamp) or ``"error"``.

    Returns:
        Indices in ``[0, num_frames)``. Shape: as ``indices``.

    Raises:
        ValueError: On a negative index, or an index ``>= num_frames`` with ``"error"``.

    Example:
        >>> import torch
        >>> indices = torch.tensor([2, 3, 4, 5])  # a clip running past a 4-frame video
        >>> apply_short_video(indices, 4, short_video="loop").tolist()
        [2, 3, 0, 1]
        >>> apply_short_video(indices, 4, short_video="repeat_last").tolist()
        [2, 3, 3, 3]
        >>> apply_short_video(torch.tensor([0, 3]), 4, short_video="error").tolist()  # in range
        [0, 3]
    """
    check_choice(short_video, "short_video", _SHORT_VIDEO_MODES)
    check_int(num_frames, "num_frames", minimum=1)
    if indices.numel() and int(indices.min()) < 0:
        raise ValueError(
            f"frame indices must be >= 0, got {int(indices.min())} "
            f"(a video of {num_frames} frames has indices 0 to {num_frames - 1})"
        )
    if not indices.numel() or int(indices.max()) < num_frames:
        return indices
    if short_video == "loop":
        return indices.remainder(num_frames)
    if short_video == "repeat_last":
        return indices.clamp(max=num_frames - 1)
    raise ValueError(
        f"frame index {int(indices.max())} is out of range for a video of {num_frames} frames "
        f"(valid: 0 to {num_frames - 1}); pass short_video='loop' or 'repeat_last' to wrap or "
        "repeat the last frame"
    )


class VideoReader:
    """An open video file: metadata now, frames by index on demand.

    The file is checked and its container opened when the reader is created; no frame is
    decoded until :meth:`get_frames`. Use it as a context manager, or call :meth:`close`.
    The frame count is what the file holds, whatever its header says (a wrong header is
    reported once per file, as a warning of the ``bgdebias.data.decoding`` logger).

    With ``backend="auto"``, a file that torchcodec cannot open, or whose frames it fails to
    decode, is read with PyAV when PyAV can (once per file, a warning says so); then
    ``backend`` and ``metadata`` are PyAV's.

    Args:
        path: Video file (``.mp4``, ``.avi``, ``.webm``, ... anything FFmpeg reads).
        backend: ``"torchcodec"``, ``"pyav"`` or ``"auto"``, see :func:`resolve_backend`.
        num_threads: Decoder threads per file (keep 1 inside ``DataLoader`` workers).

    Raises:
        VideoDecodeError: If the file is missing, a directory, empty or not a readable video.
        ImportError: If the chosen backend cannot load.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from bgdebias.data import write_video
        >>> frames = torch.zeros(8, 32, 48, 3, dtype=torch.uint8)  # (T, H, W, 3)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = write_video(f"{folder}/clip.mp4", frames)
        ...     with VideoReader(path) as video:  # opened, nothing decoded yet
        ...         count = video.num_frames
        ...         decoded = video.get_frames([0, 2, 4, 6])
        >>> count, decoded.shape, decoded.dtype  # (T, C, H, W) uint8
        (8, torch.Size([4, 3, 32, 48]), torch.uint8)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        backend: BackendChoice = "auto",
        num_threads: int = 1,
    ) -> None:
        self.path = os.fspath(path)
        self.backend: DecoderBackend = resolve_backend(backend)
        check_int(num_threads, "num_threads", minimum=1)
        _check_readable_file(self.path)
        self._num_threads = num_threads
        # Only "auto" may swap torchcodec for PyAV on a file torchcodec fails on.
        self._may_fall_back = backend == "auto" and self.backend == "torchcodec"
        try:
            video: _OpenVideo = (
                TorchcodecVideo(self.path, num_threads)
                if self.backend == "torchcodec"
                else PyAVVideo(self.path, num_threads)
            )
        except Exception as error:
            failure = f"{self.backend} cannot open it: {_describe(error)}"
            video = self._open_with_pyav_instead(failure, error)
            notices.warn_pyav_took_over(self.path, failure)
        self._video: _OpenVideo | None = video
        self.metadata: VideoMetadata = video.metadata
        notices.warn_if_header_count_is_wrong(self.path, video.header_frames, self.num_frames)

    def _open_with_pyav_instead(self, failure: str, error: Exception) -> _OpenVideo:
        """After ``failure`` (caused by ``error``), PyAV's open file, or a
        :class:`VideoDecodeError` (always, unless ``"auto"`` chose torchcodec)."""
        if not self._may_fall_back:
            raise VideoDecodeError(self.path, failure, error) from error
        self._may_fall_back = False
        try:
            video = PyAVVideo(self.path, self._num_threads)
        except Exception as pyav_error:
            raise VideoDecodeError(
                self.path, f"{failure}; pyav cannot open it either: {_describe(pyav_error)}", error
            ) from error
        self.backend = "pyav"
        return video

    @property
    def num_frames(self) -> int:
        """Frames in the video (``metadata.num_frames``)."""
        return self.metadata.num_frames

    def get_frames(
        self, indices: Sequence[int] | Tensor, *, short_video: ShortVideoMode = "error"
    ) -> Tensor:
        """Decode the frames at ``indices``, in the order given (repeats allowed).

        Args:
            indices: Frame indices, 0-based. Shape: ``(T,)``.
            short_video: What an index ``>= num_frames`` does: ``"error"``, ``"loop"`` or
                ``"repeat_last"`` (see the module docstring).

        Returns:
            RGB frames. Shape: ``(T, C, H, W)``, uint8, ``C == 3``.

        Raises:
            TypeError: If ``indices`` are not integers.
            ValueError: If ``indices`` is empty or not 1D, holds a negative index, or an index
                past the end with ``short_video="error"``.
            VideoDecodeError: If decoding fails (corrupt or truncated data).
        """
        check_choice(short_video, "short_video", _SHORT_VIDEO_MODES)
        if self._video is None:
            raise ValueError(f"the reader of {self.path!r} is closed")
        wanted = apply_short_video(
            _frame_indices(indices), self.num_frames, short_video=short_video
        )
        try:
            return self._decode(self._video, wanted)
        except Exception as error:
            first_error = error
        failure = f"{self.backend} failed to decode frames: {_describe(first_error)}"
        replacement = self._open_with_pyav_instead(failure, first_error)
        self._video.close()
        self._video, self.metadata = replacement, replacement.metadata
        try:
            frames = self._decode(replacement, wanted)
        except Exception as pyav_error:
            raise VideoDecodeError(
                self.path, f"{failure}; pyav failed too: {_describe(pyav_error)}", first_error
            ) from first_error
        notices.warn_pyav_took_over(self.path, failure)
        return frames

    def _decode(self, video: _OpenVideo, wanted: Tensor) -> Tensor:
        if self.backend == "torchcodec":
            return video.get_frames(wanted.tolist())
        unique, inverse = torch.unique(wanted, sorted=True, return_inverse=True)
        frames = video.get_frames(unique.tolist())
        if unique.numel() == wanted.numel() and torch.equal(unique, wanted):
            return frames
        return frames[inverse]

    def close(self) -> None:
        """Release the file (idempotent)."""
        if self._video is not None:
            self._video.close()
            self._video = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"VideoReader({self.path!r}, backend={self.backend!r})"


def _describe(error: BaseException) -> str:
    text = str(error).strip() or "no message"
    return f"{type(error).__name__}: {text}"


def read_video_metadata(
    path: str | os.PathLike[str], *, backend: BackendChoice = "auto"
) -> VideoMetadata:
    """Frame count, frame rate, duration and size of a video, without decoding frames.

    Args:
        path: Video file.
        backend: ``"torchcodec"``, ``"pyav"`` or ``"auto"``.

    Returns:
        The stream's :class:`~bgdebias.data.VideoMetadata`.

    Raises:
        VideoDecodeError: If the file cannot be opened as a video.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from bgdebias.data import write_video
        >>> frames = torch.zeros(12, 32, 48, 3, dtype=torch.uint8)  # (T, H, W, 3)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = write_video(f"{folder}/clip.avi", frames, fps=6, codec="mpeg4")
        ...     meta = read_video_metadata(path, backend="pyav")  # no frame is decoded
        >>> meta.num_frames, meta.fps, meta.duration, meta.codec, meta.backend
        (12, 6.0, 2.0, 'mpeg4', 'pyav')
    """
    with VideoReader(path, backend=backend) as video:
        return video.metadata


def decode_frames(
    path: str | os.PathLike[str],
    indices: Sequence[int] | Tensor,
    *,
    backend: BackendChoice = "auto",
    short_video: ShortVideoMode = "error",
) -> Tensor:
    """Open ``path``, decode the frames at ``indices`` and close it.

    Args:
        path: Video file.
        indices: Frame indices, 0-based. Shape: ``(T,)``.
        backend: ``"torchcodec"``, ``"pyav"`` or ``"auto"``.
        short_video: ``"error"``, ``"loop"`` or ``"repeat_last"`` for indices past the end.

    Returns:
        RGB frames. Shape: ``(T, C, H, W)``, uint8.

    Raises:
        VideoDecodeError: If the file cannot be read.
        ValueError: For bad indices, see :meth:`VideoReader.get_frames`.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from bgdebias.data import write_video
        >>> frames = torch.zeros(4, 32, 32, 3, dtype=torch.uint8)
        >>> frames[..., 0] = torch.tensor([0, 80, 160, 240]).view(4, 1, 1)  # red = 80 * t
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = write_video(f"{folder}/clip.mp4", frames)
        ...     clip = decode_frames(path, [3, 0, 5], short_video="loop")  # 5 wraps to 1
        >>> clip.shape, (clip[:, 0].float().mean(dim=(1, 2)) / 80).round().tolist()
        (torch.Size([3, 3, 32, 32]), [3.0, 0.0, 1.0])
    """
    with VideoReader(path, backend=backend) as video:
        return video.get_frames(indices, short_video=short_video)
