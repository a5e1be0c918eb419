from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdebias.data.decoding import (
    DecoderBackend,
    VideoReader,
    apply_short_video,
    available_backends,
    decode_frames,
    read_video_metadata,
    resolve_backend,
)
from bgdebias.data.decoding import _notices as notices
from bgdebias.data.decoding import reader as decoding
from bgdebias.data.decoding.errors import VideoDecodeError

BACKENDS: tuple[DecoderBackend, ...] = ("torchcodec", "pyav")
CONTAINERS = ("mp4", "avi", "webm")


def test_both_backends_load_here() -> None:
    assert available_backends() == ("torchcodec", "pyav")
    assert resolve_backend("auto") == "torchcodec"


@pytest.mark.parametrize("container", CONTAINERS)
def test_backends_return_identical_frames(
    vds_videos: dict[str, Path], container: str, vds_frame_ids: Callable[..., list[int]]
) -> None:
    indices = [7, 0, 3, 3, 11, 1]
    by_backend = {b: decode_frames(vds_videos[container], indices, backend=b) for b in BACKENDS}
    torch_frames, pyav_frames = by_backend["torchcodec"], by_backend["pyav"]
    assert torch_frames.shape == (6, 3, 32, 48)
    assert torch_frames.dtype == pyav_frames.dtype == torch.uint8
    # Measured: both backends convert YUV to RGB identically here (max difference 0).
    assert torch.equal(torch_frames, pyav_frames)
    assert vds_frame_ids(torch_frames, "TCHW") == indices


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_metadata_without_decoding(
    vds_videos: dict[str, Path], container: str, backend: str
) -> None:
    meta = read_video_metadata(vds_videos[container], backend=backend)  # type: ignore[arg-type]
    assert (meta.num_frames, meta.height, meta.width) == (12, 32, 48)
    assert meta.fps == pytest.approx(25.0)
    assert meta.duration == pytest.approx(12 / 25, abs=0.05)
    assert meta.backend == backend
    assert meta.codec == {"mp4": "h264", "avi": "mpeg4", "webm": "vp9"}[container]


def test_pyav_counts_packets_when_the_header_has_no_frame_count(
    vds_videos: dict[str, Path],
) -> None:
    import av

    with av.open(str(vds_videos["webm"])) as container:
        assert container.streams.video[0].frames == 0  # WebM does not record it
    assert read_video_metadata(vds_videos["webm"], backend="pyav").num_frames == 12


@pytest.mark.parametrize("backend", BACKENDS)
def test_reader_decodes_several_requests(vds_videos: dict[str, Path], backend: str) -> None:
    with VideoReader(vds_videos["mp4"], backend=backend) as video:  # type: ignore[arg-type]
        first = video.get_frames(torch.tensor([2, 4]))
        again = video.get_frames([4, 2])
    assert torch.equal(first, again.flip(0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_short_video_policies(
    vds_videos: dict[str, Path], backend: str, vds_frame_ids: Callable[..., list[int]]
) -> None:
    path = vds_videos["short"]  # 5 frames
    indices = list(range(8))
    looped = decode_frames(path, indices, backend=backend, short_video="loop")  # type: ignore[arg-type]
    assert vds_frame_ids(looped, "TCHW") == [0, 1, 2, 3, 4, 0, 1, 2]
    repeated = decode_frames(path, indices, backend=backend, short_video="repeat_last")  # type: ignore[arg-type]
    assert vds_frame_ids(repeated, "TCHW") == [0, 1, 2, 3, 4, 4, 4, 4]
    assert torch.equal(repeated[4], repeated[7])
    with pytest.raises(
        ValueError, match=re.escape("frame index 7 is out of range for a video of 5")
    ):
        decode_frames(path, indices, backend=backend, short_video="error")  # type: ignore[arg-type]


def test_out_of_range_is_an_error_by_default(vds_videos: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match=r"frame index 12 is out of range .* \(valid: 0 to 11\)"):
        decode_frames(vds_videos["mp4"], [0, 12])


@pytest.mark.parametrize("policy", ["loop", "repeat_last", "error"])
def test_negative_indices_are_always_an_error(vds_videos: dict[str, Path], policy: str) -> None:
    with pytest.raises(ValueError, match=re.escape("frame indices must be >= 0, got -1")):
        decode_frames(vds_videos["mp4"], [0, -1], short_video=policy)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("indices", "error", "message"),
    [
        ([], ValueError, "`indices` must name at least one frame, got none"),
        (
            torch.zeros(2, 3, dtype=torch.long),
            ValueError,
            "`indices` must be 1D (T,), got shape (2, 3)",
        ),
        (
            torch.tensor([0.0, 1.0]),
            TypeError,
            "`indices` must hold integers, got dtype torch.float32",
        ),
        ([0, 1.5], TypeError, "`indices` must be a sequence of ints, got [0, 1.5]"),
    ],
)
def test_bad_indices(
    vds_videos: dict[str, Path], indices: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        decode_frames(vds_videos["mp4"], indices)  # type: ignore[arg-type]


def test_bad_options(vds_videos: dict[str, Path]) -> None:
    with pytest.raises(
        ValueError,
        match=re.escape("`backend` must be one of 'torchcodec', 'pyav', 'auto'; got 'opencv'"),
    ):
        VideoReader(vds_videos["mp4"], backend="opencv")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError,
        match=re.escape("`short_video` must be one of 'loop', 'repeat_last', 'error'; got 'pad'"),
    ):
        decode_frames(vds_videos["mp4"], [0], short_video="pad")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("`num_threads` must be an int >= 1, got 0")):
        VideoReader(vds_videos["mp4"], num_threads=0)


def test_closed_reader(vds_videos: dict[str, Path]) -> None:
    video = VideoReader(vds_videos["mp4"])
    video.close()
    video.close()
    with pytest.raises(ValueError, match=r"the reader of .*good.mp4' is closed"):
        video.get_frames([0])


BROKEN = [
    ("empty", "the file is empty (0 bytes)"),
    ("random", "cannot open it"),
    ("truncated", "cannot open it"),
    ("missing", "no such file"),
    ("directory", "it is a directory, not a video file"),
]


@pytest.mark.parametrize(("name", "reason"), BROKEN)
@pytest.mark.parametrize("backend", BACKENDS)
def test_broken_files_raise_video_decode_error(
    vds_videos: dict[str, Path], name: str, reason: str, backend: str
) -> None:
    path = vds_videos[name]
    with pytest.raises(VideoDecodeError, match=re.escape(reason)) as caught:
        decode_frames(path, [0], backend=backend)  # type: ignore[arg-type]
    error = caught.value
    assert isinstance(error, RuntimeError)
    assert error.path == str(path)
    assert str(path) in str(error)
    if name in ("random", "truncated"):
        assert error.cause is not None
        assert error.__cause__ is error.cause
    with pytest.raises(VideoDecodeError, match=re.escape(reason)):
        read_video_metadata(path, backend=backend)  # type: ignore[arg-type]


@pytest.mark.parametrize("container", ["mp4", "avi"])
@pytest.mark.parametrize("fraction", [0.5, 0.95])
@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_files_never_decode_silently(
    vds_videos: dict[str, Path], tmp_path: Path, container: str, fraction: float, backend: str
) -> None:
    data = vds_videos[container].read_bytes()
    path = tmp_path / f"cut.{container}"
    path.write_bytes(data[: int(len(data) * fraction)])
    with (
        pytest.raises(VideoDecodeError, match=re.escape(str(path))),
        VideoReader(path, backend=backend) as video,  # type: ignore[arg-type]
    ):
        video.get_frames(list(range(video.num_frames)))


class _FakeTorchcodecMetadata:
    num_frames = 3
    num_frames_from_header = 60
    average_fps = 25.0
    duration_seconds = 0.12
    height, width, codec = 32, 48, "h264"


class _FakeTorchcodecDecoder:
    def __init__(self, *_args: object, **_kwargs: object) -> None:
        self.metadata = _FakeTorchcodecMetadata()


@pytest.mark.parametrize(("content", "warns"), [(3, True), (58, False)])
def test_torchcodec_counts_the_frames_the_file_holds(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    vds_videos: dict[str, Path],
    content: int,
    warns: bool,
) -> None:
    import torchcodec.decoders

    monkeypatch.setattr(torchcodec.decoders, "VideoDecoder", _FakeTorchcodecDecoder)
    monkeypatch.setattr(_FakeTorchcodecMetadata, "num_frames", content)  # the header says 60
    monkeypatch.setattr(notices, "_given", set())
    with caplog.at_level(logging.WARNING, logger="bgdebias.data.decoding"):
        assert VideoReader(vds_videos["mp4"], backend="torchcodec").num_frames == content
    # 58 of 60 is within the slack of max(2, 60 // 10) frames: no warning.
    assert ("its header gives 60 frames but the file holds 3" in caplog.text) is warns


def test_pyav_reports_a_stream_that_ends_early(
    monkeypatch: pytest.MonkeyPatch, vds_videos: dict[str, Path]
) -> None:
    video = VideoReader(vds_videos["short"], backend="pyav")  # 5 frames
    monkeypatch.setattr(video, "metadata", dataclasses.replace(video.metadata, num_frames=9))
    with pytest.raises(
        VideoDecodeError,
        match=re.escape("the stream ended after 5 decoded frames but frame 7 was requested"),
    ):
        video.get_frames([1, 7])


def test_decode_error_pickles_for_dataloader_workers(vds_videos: dict[str, Path]) -> None:
    with pytest.raises(VideoDecodeError) as caught:
        decode_frames(vds_videos["random"], [0])
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, VideoDecodeError)
    assert (copy.path, copy.reason, str(copy)) == (
        caught.value.path,
        caught.value.reason,
        str(caught.value),
    )


def test_auto_falls_back_to_pyav_without_torchcodec(
    monkeypatch: pytest.MonkeyPatch, vds_videos: dict[str, Path]
) -> None:
    monkeypatch.setattr(decoding, "torchcodec_load_error", lambda: "OSError: no libavutil")
    monkeypatch.setattr(notices, "_given", set())
    assert resolve_backend("auto") == "pyav"
    assert available_backends() == ("pyav",)
    assert VideoReader(vds_videos["mp4"]).backend == "pyav"
    with pytest.raises(ImportError, match=re.escape("backend='torchcodec' needs torchcodec")):
        resolve_backend("torchcodec")
    monkeypatch.setattr(decoding, "_pyav_import_error", lambda: "ImportError: no av")
    with pytest.raises(ImportError, match="no video decoding backend loads"):
        resolve_backend("auto")


@settings(max_examples=40, deadline=None)
@given(
    num_frames=st.integers(1, 20),
    values=st.lists(st.integers(0, 60), min_size=1, max_size=10),
)
def test_short_video_policies_map_into_range(num_frames: int, values: list[int]) -> None:
    indices = torch.tensor(values)
    looped = apply_short_video(indices, num_frames, short_video="loop")
    clamped = apply_short_video(indices, num_frames, short_video="repeat_last")
    assert torch.equal(looped, indices % num_frames)
    assert torch.equal(clamped, indices.clamp(max=num_frames - 1))
    if max(values) < num_frames:
        assert torch.equal(apply_short_video(indices, num_frames, short_video="error"), indices)
    else:
        with pytest.raises(ValueError, match="out of range"):
            apply_short_video(indices, num_frames, short_video="error")


def _write_without_video_frames(path: Path, *, with_video_stream: bool) -> Path:
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        if with_video_stream:
            video = container.add_stream("libx264", rate=25)
            video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        for packet in [*audio.encode(frame), *audio.encode()]:
            container.mux(packet)
    return path


def test_files_without_video_frames(tmp_path: Path) -> None:
    audio_only = _write_without_video_frames(tmp_path / "sound.mkv", with_video_stream=False)
    with pytest.raises(
        VideoDecodeError,
        match=re.escape("pyav cannot open it: ValueError: the file holds no video stream"),
    ):
        VideoReader(audio_only, backend="pyav")
    with pytest.raises(VideoDecodeError, match=re.escape("torchcodec cannot open it")):
        VideoReader(audio_only, backend="torchcodec")
    empty_track = _write_without_video_frames(tmp_path / "silent.mkv", with_video_stream=True)
    with pytest.raises(
        VideoDecodeError,
        match=re.escape("pyav cannot open it: ValueError: the video stream holds no frames"),
    ):
        VideoReader(empty_track, backend="pyav")
    with pytest.raises(VideoDecodeError, match=re.escape("torchcodec cannot open it")):
        VideoReader(empty_track, backend="torchcodec")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("num_frames", 0, "the video stream holds no frames"),
        ("height", None, "the video stream does not give its frame size"),
    ],
)
def test_torchcodec_metadata_gaps(
    monkeypatch: pytest.MonkeyPatch,
    vds_videos: dict[str, Path],
    field: str,
    value: object,
    message: str,
) -> None:
    import torchcodec.decoders

    monkeypatch.setattr(torchcodec.decoders, "VideoDecoder", _FakeTorchcodecDecoder)
    monkeypatch.setattr(_FakeTorchcodecMetadata, "num_frames_from_header", None)
    monkeypatch.setattr(_FakeTorchcodecMetadata, field, value)
    with pytest.raises(VideoDecodeError, match=re.escape(message)):
        VideoReader(vds_videos["mp4"], backend="torchcodec")


def test_files_that_are_not_readable_regular_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vds_videos: dict[str, Path]
) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    with pytest.raises(VideoDecodeError, match=re.escape("it is not a regular file")):
        VideoReader(fifo)
    with pytest.raises(
        VideoDecodeError, match=re.escape("cannot stat the file ([Errno 20] Not a directory")
    ):
        VideoReader(vds_videos["mp4"] / "inner.mp4")
    monkeypatch.setattr(os, "access", lambda _path, _mode: False)
    with pytest.raises(
        VideoDecodeError, match=re.escape("the file is not readable (permission denied)")
    ):
        VideoReader(vds_videos["mp4"])
