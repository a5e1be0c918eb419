"""A video whose header gives the wrong frame count reads the same with either backend.

OpenCV's sample ``tree.avi`` promises 444 frames and holds 68. These tests make such files:
a 12-frame AVI whose main header (``avih`` dwTotalFrames) and video stream header (``strh``
dwLength) are rewritten.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from bgdebias.data.decoding import VideoReader, decode_frames, read_video_metadata
from bgdebias.data.decoding import _notices as notices

BACKENDS = ("torchcodec", "pyav", "auto")
HELD = 12  # frames the test AVI holds


def _rewrite_avi_frame_count(source: Path, target: Path, frames: int) -> Path:
    """Copy an AVI, its headers claiming ``frames`` frames."""
    data = bytearray(source.read_bytes())
    main_header = data.index(b"avih") + 8  # after the chunk id and size
    struct.pack_into("<I", data, main_header + 16, frames)  # dwTotalFrames, 5th DWORD
    stream_header = data.index(b"strh") + 8
    if data[stream_header : stream_header + 4] != b"vids":
        raise ValueError(f"{source}: the first stream is not the video stream")
    struct.pack_into("<I", data, stream_header + 32, frames)  # dwLength, 9th DWORD
    target.write_bytes(bytes(data))
    return target


@pytest.fixture(scope="module")
def header_says(
    tmp_path_factory: pytest.TempPathFactory, vds_videos: dict[str, Path]
) -> Callable[[int], Path]:
    """``header_says(n)``: the 12-frame test AVI with headers claiming ``n`` frames."""
    folder = tmp_path_factory.mktemp("header_lies")

    def make(frames: int) -> Path:
        path = folder / f"claims_{frames}.avi"
        return path if path.exists() else _rewrite_avi_frame_count(vds_videos["avi"], path, frames)

    return make


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notices, "_given", set())


def test_both_libraries_read_the_lie(header_says: Callable[[int], Path]) -> None:
    import av
    from torchcodec.decoders import VideoDecoder  # type: ignore[attr-defined]

    path = header_says(60)
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames == 60
    assert VideoDecoder(str(path), seek_mode="approximate").metadata.num_frames == 60
    exact = VideoDecoder(str(path), seek_mode="exact").metadata
    assert (exact.num_frames_from_header, exact.num_frames_from_content) == (60, HELD)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_overstated_length_reads_the_frames_held_with_one_warning(
    header_says: Callable[[int], Path],
    caplog: pytest.LogCaptureFixture,
    vds_frame_ids: Callable[..., list[int]],
    backend: str,
) -> None:
    path = header_says(60)
    with caplog.at_level(logging.WARNING, logger="bgdebias.data.decoding"):
        for _ in range(3):  # a dataset opens its files again for every item
            with VideoReader(path, backend=backend) as video:  # type: ignore[arg-type]
                assert video.num_frames == HELD
                frames = video.get_frames(list(range(HELD)))
    assert vds_frame_ids(frames, "TCHW") == list(range(HELD))
    assert caplog.messages == [
        f"video {str(path)!r}: its header gives 60 frames but the file holds {HELD}; reading "
        f"the {HELD} frames it holds (the header is wrong, or the file is truncated)"
    ]


def test_backends_agree_on_a_file_whose_header_lies(header_says: Callable[[int], Path]) -> None:
    path = header_says(60)
    by_backend = {b: read_video_metadata(path, backend=b) for b in ("torchcodec", "pyav")}
    torchcodec, pyav = by_backend["torchcodec"], by_backend["pyav"]
    assert (torchcodec.num_frames, torchcodec.height, torchcodec.width) == (HELD, 32, 48)
    assert (pyav.num_frames, pyav.height, pyav.width) == (HELD, 32, 48)
    # Timing comes from the frames held, not from the 60 frames of the header (2.4 s).
    assert torchcodec.duration == pytest.approx(HELD / 25)
    assert pyav.duration == pytest.approx(HELD / 25)
    assert torchcodec.fps == pytest.approx(25.0)
    assert pyav.fps == pytest.approx(25.0)
    indices = [11, 0, 5, 5]
    assert torch.equal(
        decode_frames(path, indices, backend="torchcodec"),
        decode_frames(path, indices, backend="pyav"),
    )


@pytest.mark.parametrize(
    ("claimed", "message"),
    [
        (6, "its header gives 6 frames but the file holds 12; reading the 12 frames it holds "
         "(wrong header)"),
        (14, None),  # within the slack of max(2, 14 // 10) frames
    ],
)  # fmt: skip
@pytest.mark.parametrize("backend", ["torchcodec", "pyav"])
def test_other_wrong_counts(
    header_says: Callable[[int], Path],
    caplog: pytest.LogCaptureFixture,
    claimed: int,
    message: str | None,
    backend: str,
) -> None:
    path = header_says(claimed)
    with caplog.at_level(logging.WARNING, logger="bgdebias.data.decoding"):
        assert read_video_metadata(path, backend=backend).num_frames == HELD  # type: ignore[arg-type]
    assert caplog.messages == ([f"video {str(path)!r}: {message}"] if message else [])


def test_each_file_is_named_once(
    header_says: Callable[[int], Path], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bgdebias.data.decoding"):
        for path in (header_says(60), header_says(40), header_says(60)):
            for backend in ("torchcodec", "pyav"):
                read_video_metadata(path, backend=backend)
    named = [m.split(":")[0] for m in caplog.messages]
    assert named == [f"video {str(header_says(60))!r}", f"video {str(header_says(40))!r}"]
