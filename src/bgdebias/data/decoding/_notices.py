"""The warnings decoding gives, each at most once per process (once per file for a file).

A dataset opens its videos again for every item and every epoch; without the once-only
rule one odd file would repeat its warning thousands of times. They go to the logger
``bgdebias.data.decoding`` (silence them with
``logging.getLogger("bgdebias.data.decoding").setLevel(logging.ERROR)``).
"""

from __future__ import annotations

import logging

logger = logging.getLogger("bgdebias.data.decoding")

#: Frames a header may be off the file's content before it is reported (some containers'
#: headers and packet counts disagree by a frame or two).
HEADER_SLACK = 2

_given: set[tuple[str, str]] = set()


def _warn_once(topic: str, subject: str, message: str, *args: object) -> None:
    if (topic, subject) in _given:
        return
    _given.add((topic, subject))
    logger.warning(message, *args)


def warn_if_header_count_is_wrong(path: str, header: int | None, content: int) -> None:
    """Once per file: its header's frame count is off the ``content`` frames it holds by
    more than ``max(2, header // 10)`` (nothing where the header gives no count)."""
    if header is None or abs(header - content) <= max(HEADER_SLACK, header // 10):
        return
    cause = "the header is wrong, or the file is truncated" if header > content else "wrong header"
    _warn_once(
        "header",
        path,
        "video %r: its header gives %d frames but the file holds %d; reading the %d frames "
        "it holds (%s)",
        path,
        header,
        content,
        content,
        cause,
    )


def warn_torchcodec_unloadable(problem: str) -> None:
    """Once per process: torchcodec is installed but cannot load, PyAV decodes instead."""
    _warn_once(
        "torchcodec",
        "",
        "torchcodec is installed but cannot load here (%s); decoding videos with PyAV "
        "instead. To decode with torchcodec, install FFmpeg's shared libraries in a version "
        "your torchcodec supports (Debian/Ubuntu: apt-get install ffmpeg; conda: conda "
        "install -c conda-forge ffmpeg) with a torch version it supports; pass "
        "backend='pyav' to choose PyAV without this message",
        problem,
    )


def warn_pyav_took_over(path: str, reason: str) -> None:
    """Once per file: under ``backend="auto"`` torchcodec failed on it and PyAV read it."""
    _warn_once(
        "pyav",
        path,
        "video %r: read with PyAV instead (backend='auto') because %s",
        path,
        reason,
    )
