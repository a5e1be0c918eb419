"""``backend="auto"`` reads a file with PyAV when torchcodec cannot open or decode it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from bgdebias.data.decoding import VideoReader, decode_frames
from bgdebias.data.decoding import _notices as notices
from bgdebias.data.decoding._pyav import PyAVVideo
from bgdebias.data.decoding._torchcodec import TorchcodecVideo
from bgdebias.data.decoding.errors import VideoDecodeError
from bgdebias.data.decoding.writer import write_video


class _RefusingDecoder:
    def __init__(self, *_args: object, **_kwargs: object) -> None:
        raise RuntimeError("Could not open input file: made-up container quirk")


def _fail(message: str) -> Callable[..., torch.Tensor]:
    def get_frames(_self: object, _indices: list[int]) -> torch.Tensor:
        raise RuntimeError(message)

    return get_frames


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notices, "_given", set())


def test_a_file_torchcodec_cannot_open_is_read_with_pyav(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    vds_videos: dict[str, Path],
    vds_frame_ids: Callable[..., list[int]],
) -> None:
    import torchcodec.decoders

    monkeypatch.setattr(torchcodec.decoders, "VideoDecoder", _RefusingDecoder)
    path = vds_videos["mp4"]
    with caplog.at_level(logging.WARNING, logger="bgdebias.data.decoding"):
        for _ in range(2):
            with VideoReader(path) as video:
                assert (video.backend, video.metadata.backend) == ("pyav", "pyav")
                assert vds_frame_ids(video.get_frames([3, 0]), "TCHW") == [3, 0]
    assert caplog.messages == [
        f"video {str(path)!r}: read with PyAV instead (backend='auto') because torchcodec "
        "cannot open it: RuntimeError: Could not open input file: made-up container quirk"
    ]
    with pytest.raises(VideoDecodeError, match=re.escape("torchcodec cannot open it")):
        VideoReader(path, backend="torchcodec")  # a forced backend never falls back


def test_a_file_torchcodec_cannot_decode_is_read_with_pyav(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    vds_videos: dict[str, Path],
    vds_frame_ids: Callable[..., list[int]],
) -> None:
    monkeypatch.setattr(TorchcodecVideo, "get_frames", _fail("no more frames left to decode"))
    path = vds_videos["mp4"]
    with (
        caplog.at_level(logging.WARNING, logger="bgdebias.data.decoding"),
        VideoReader(path) as video,
    ):
        assert video.backend == "torchcodec"
        assert vds_frame_ids(video.get_frames([5, 1, 5]), "TCHW") == [5, 1, 5]
        assert (video.backend, video.metadata.backend, video.num_frames) == ("pyav", "pyav", 12)
        assert vds_frame_ids(video.get_frames([2]), "TCHW") == [2]
    assert caplog.messages == [
        f"video {str(path)!r}: read with PyAV instead (backend='auto') because torchcodec "
        "failed to decode frames: RuntimeError: no more frames left to decode"
    ]
    with pytest.raises(VideoDecodeError, match=re.escape("torchcodec failed to decode frames")):
        decode_frames(path, [0], backend="torchcodec")


def test_h264_in_avi_reads_whole_with_auto(
    tmp_path: Path, vds_frame_ids: Callable[..., list[int]]
) -> None:
    # torchcodec 0.17 opens this file but fails on a request for all 12 frames at once.
    frames = torch.zeros(12, 32, 48, 3, dtype=torch.uint8)
    frames[..., 0] = (8 + 20 * torch.arange(12)).view(12, 1, 1)  # what vds_frame_ids reads
    frames[..., 1] = torch.linspace(0, 255, 48).to(torch.uint8)
    path = write_video(tmp_path / "h264.avi", frames, codec="libx264")
    everything = list(range(12))
    decoded = decode_frames(path, everything)
    assert vds_frame_ids(decoded, "TCHW") == everything
    assert torch.equal(decoded, decode_frames(path, everything, backend="pyav"))


def test_when_pyav_fails_too_the_error_gives_both_causes(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    vds_videos: dict[str, Path],
) -> None:
    with caplog.at_level(logging.WARNING, logger="bgdebias.data.decoding"):
        with pytest.raises(
            VideoDecodeError,
            match=r"torchcodec cannot open it: .*; pyav cannot open it either: .*InvalidData",
        ) as caught:
            VideoReader(vds_videos["random"])
        assert isinstance(caught.value.cause, RuntimeError)  # torchcodec's, tried first
        monkeypatch.setattr(TorchcodecVideo, "get_frames", _fail("torchcodec broke"))
        monkeypatch.setattr(PyAVVideo, "get_frames", _fail("pyav broke"))
        with pytest.raises(
            VideoDecodeError,
            match=re.escape(
                "torchcodec failed to decode frames: RuntimeError: torchcodec broke; pyav failed "
                "too: RuntimeError: pyav broke"
            ),
        ):
            decode_frames(vds_videos["mp4"], [0])
    assert caplog.messages == []  # no claim that PyAV read a file it could not
