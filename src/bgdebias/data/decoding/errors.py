"""The one error type raised for a video file that cannot be read."""

from __future__ import annotations

import os


class VideoDecodeError(RuntimeError):
    """A video file is missing, empty, corrupt, truncated or otherwise unreadable.

    Raised by :class:`~bgdebias.data.decoding.VideoReader` and the datasets whatever the
    backend (torchcodec or PyAV) and whatever went wrong below it; the backend's own
    exception, if any, is chained as ``__cause__`` and kept in :attr:`cause`.

    Args:
        path: The file that failed.
        reason: What went wrong, in words (e.g. ``"the file is empty (0 bytes)"``).
        cause: The underlying exception, if one was raised.

    Attributes:
        path: The file that failed, as given.
        reason: What went wrong, in words.
        cause: The underlying exception, or ``None``.

    Example:
        >>> from bgdebias.data import VideoDecodeError, decode_frames
        >>> try:
        ...     decode_frames("missing/clip.mp4", [0])
        ... except VideoDecodeError as error:
        ...     print(error)
        ...     print(error.path, "|", error.reason)  # the file and the cause, separately
        cannot decode video 'missing/clip.mp4': no such file
        missing/clip.mp4 | no such file
    """

    def __init__(
        self, path: str | os.PathLike[str], reason: str, cause: BaseException | None = None
    ) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        self.cause = cause
        super().__init__(f"cannot decode video {self.path!r}: {reason}")

    def __reduce__(self) -> tuple[type[VideoDecodeError], tuple[str, str, None]]:
        # DataLoader workers pickle errors; the cause may not pickle, its text is in `reason`.
        return (type(self), (self.path, self.reason, None))
