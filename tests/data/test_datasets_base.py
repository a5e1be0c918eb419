"""Behaviour shared by every video dataset, exercised through UCF101 and VideoFolder."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from bgdebias.data.datasets import UCF101, VideoFolder, VideoSample
from bgdebias.data.datasets import base as dataset_base
from bgdebias.data.decoding import VideoReader
from bgdebias.data.sampling import ClipSampler, RandomClipSampler, UniformClipSampler
from bgdebias.data.transforms import CenterCropClip


def test_sample_is_a_float_clip_with_its_label_and_path(
    vds_folder_tree: Path, vds_frame_ids: Callable[..., list[int]]
) -> None:
    data = VideoFolder(vds_folder_tree, clip_sampler=UniformClipSampler(4, stride=2, num_clips=1))
    sample = data[0]
    assert isinstance(sample, VideoSample)
    assert sample.clip.shape == (3, 4, 32, 48)
    assert sample.clip.dtype == torch.float32
    assert float(sample.clip.min()) >= 0.0
    assert float(sample.clip.max()) <= 1.0
    # 12 frames, span 7, a single centred clip starts at frame 2.
    assert vds_frame_ids(sample.clip) == [2, 4, 6, 8]
    assert (sample.label, sample.video_index) == (0, 0)
    assert sample.path == str(vds_folder_tree / "a_walk" / "only.webm")


def test_uint8_clips_keep_the_decoded_values(vds_folder_tree: Path, vds_first_frames: Any) -> None:
    as_float = VideoFolder(vds_folder_tree, clip_sampler=vds_first_frames(3))[1].clip
    as_uint8 = VideoFolder(vds_folder_tree, clip_sampler=vds_first_frames(3), clip_dtype="uint8")[
        1
    ].clip
    assert as_uint8.dtype == torch.uint8
    assert as_uint8.shape == (3, 3, 32, 48)
    assert torch.equal(as_uint8.float() / 255, as_float)


def test_several_clips_are_stacked_and_transformed_one_by_one(
    vds_folder_tree: Path, vds_frame_ids: Callable[..., list[int]]
) -> None:
    seen: list[tuple[int, ...]] = []

    def transform(clip: Tensor) -> Tensor:
        seen.append(tuple(clip.shape))
        cropped: Tensor = CenterCropClip(16)(clip)
        return cropped

    sampler = UniformClipSampler(3, num_clips=2)
    sample = VideoFolder(vds_folder_tree, clip_sampler=sampler, transform=transform)[1]
    assert seen == [(3, 3, 32, 48), (3, 3, 32, 48)]
    assert sample.clip.shape == (2, 3, 3, 16, 16)
    assert vds_frame_ids(sample.clip[0]) == [0, 1, 2]
    assert vds_frame_ids(sample.clip[1]) == [9, 10, 11]


def test_transform_outputs_of_different_shapes_come_back_as_a_list(vds_folder_tree: Path) -> None:
    sizes = iter([8, 12])
    data = VideoFolder(
        vds_folder_tree,
        clip_sampler=UniformClipSampler(2, num_clips=2),
        transform=lambda clip: CenterCropClip(next(sizes))(clip),
    )
    clips = data[0].clip
    assert isinstance(clips, list)
    assert [tuple(c.shape) for c in clips] == [(3, 2, 8, 8), (3, 2, 12, 12)]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("loop", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1]), ("repeat_last", [*range(12), 11, 11])],
)
def test_short_videos_follow_the_dataset_policy(
    vds_folder_tree: Path,
    vds_first_frames: Any,
    vds_frame_ids: Callable[..., list[int]],
    policy: str,
    expected: list[int],
) -> None:
    data = VideoFolder(
        vds_folder_tree,
        clip_sampler=vds_first_frames(14),
        short_video=policy,  # type: ignore[arg-type]
    )
    assert vds_frame_ids(data[0].clip) == expected


def test_short_video_error_policy(vds_folder_tree: Path, vds_first_frames: Any) -> None:
    data = VideoFolder(vds_folder_tree, clip_sampler=vds_first_frames(14), short_video="error")
    with pytest.raises(ValueError, match=re.escape("frame index 13 is out of range")):
        data[0]


def test_seeded_clips_repeat_per_index_and_change_with_the_epoch(vds_folder_tree: Path) -> None:
    sampler = RandomClipSampler(2, num_clips=3)
    data = VideoFolder(vds_folder_tree, clip_sampler=sampler, seed=7, clip_dtype="uint8")
    first = data[2].clip
    assert torch.equal(first, data[2].clip)
    assert torch.equal(
        first,
        VideoFolder(vds_folder_tree, clip_sampler=sampler, seed=7, clip_dtype="uint8")[2].clip,
    )
    epochs = []
    for epoch in range(1, 6):
        data.set_epoch(epoch)
        epochs.append(data[2].clip)
    assert any(not torch.equal(first, clip) for clip in epochs)


def test_dataloader_batches_samples(vds_folder_tree: Path) -> None:
    data = VideoFolder(vds_folder_tree, clip_sampler=RandomClipSampler(4), seed=0)
    batch = next(iter(DataLoader(data, batch_size=3)))
    assert batch.clip.shape == (3, 3, 4, 32, 48)
    assert batch.label.tolist() == [0, 1, 1]
    assert batch.video_index.tolist() == [0, 1, 2]
    assert batch.path[1].endswith("W.AVI")


@pytest.mark.parametrize(
    ("sampler", "error", "message"),
    [
        (
            lambda _n, _g: [0, 1],
            TypeError,
            "`clip_sampler` must return a Tensor of frame indices, got list",
        ),
        (
            lambda _n, _g: torch.zeros(1, 2),
            TypeError,
            "`clip_sampler` must return integer frame indices, got torch.float32",
        ),
        (
            lambda _n, _g: torch.zeros(1, 2, 3, dtype=torch.long),
            ValueError,
            "shape (num_clips, clip_len), got shape (1, 2, 3) for a video of 12 frames",
        ),
    ],
)
def test_bad_sampler_output(
    vds_folder_tree: Path, sampler: ClipSampler, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        VideoFolder(vds_folder_tree, clip_sampler=sampler)[0]


def test_a_one_dimensional_sampler_output_is_one_clip(vds_folder_tree: Path) -> None:
    def five_frames(num_frames: int, generator: torch.Generator | None = None) -> Tensor:
        del num_frames, generator
        return torch.arange(5)

    data = VideoFolder(vds_folder_tree, clip_sampler=five_frames)
    assert data[0].clip.shape == (3, 5, 32, 48)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"clip_sampler": 3}, TypeError, "`clip_sampler` must be callable, got int"),
        ({"transform": "crop"}, TypeError, "`transform` must be callable or None, got str"),
        (
            {"backend": "cv2"},
            ValueError,
            "`backend` must be one of 'torchcodec', 'pyav', 'auto'; got 'cv2'",
        ),
        (
            {"short_video": "pad"},
            ValueError,
            "`short_video` must be one of 'loop', 'repeat_last', 'error'; got 'pad'",
        ),
        (
            {"on_error": "ignore"},
            ValueError,
            "`on_error` must be one of 'raise', 'skip'; got 'ignore'",
        ),
        (
            {"missing_files": "x"},
            ValueError,
            "`missing_files` must be one of 'raise', 'skip'; got 'x'",
        ),
        (
            {"clip_dtype": "float16"},
            ValueError,
            "`clip_dtype` must be one of 'float32', 'uint8'; got 'float16'",
        ),
        ({"seed": -1}, ValueError, "`seed` must be an int >= 0, got -1"),
    ],
)
def test_bad_options(
    vds_folder_tree: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    options: dict[str, Any] = {"clip_sampler": UniformClipSampler(2, num_clips=1), **kwargs}
    with pytest.raises(error, match=re.escape(message)):
        VideoFolder(vds_folder_tree, **options)


def test_bad_item_index(vds_folder_tree: Path) -> None:
    data = VideoFolder(vds_folder_tree, clip_sampler=UniformClipSampler(2, num_clips=1))
    assert data[-1].video_index == len(data) - 1
    assert data[np.int64(1)].video_index == data[torch.tensor(1)].video_index == 1  # type: ignore[index]
    with pytest.raises(
        IndexError, match=re.escape("`index` 3 is out of range for a dataset of 3 videos")
    ):
        data[3]
    with pytest.raises(TypeError, match=re.escape("`index` must be an int, got str")):
        data["0"]  # type: ignore[index]
    with pytest.raises(ValueError, match=re.escape("`epoch` must be an int >= 0, got -2")):
        data.set_epoch(-2)


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(f"VideoFolder root {str(tmp_path / 'nope')!r} does not exist"),
    ):
        VideoFolder(tmp_path / "nope", clip_sampler=UniformClipSampler(2))
    file = tmp_path / "file.txt"
    file.write_text("x")
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        VideoFolder(file, clip_sampler=UniformClipSampler(2))


# -- unreadable videos -----------------------------------------------------------------------


def test_on_error_raise_names_the_corrupt_file(vds_corrupt_folder_tree: Path) -> None:
    data = VideoFolder(vds_corrupt_folder_tree, clip_sampler=UniformClipSampler(2, num_clips=1))
    assert data[0].video_index == 0
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            f"cannot decode video {str(vds_corrupt_folder_tree / 'cls' / 'b_bad.mp4')!r}"
        ),
    ):
        data[1]


def test_on_error_skip_substitutes_the_next_video_and_records_it(
    vds_corrupt_folder_tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = VideoFolder(
        vds_corrupt_folder_tree, clip_sampler=UniformClipSampler(2, num_clips=1), on_error="skip"
    )
    bad = str(vds_corrupt_folder_tree / "cls" / "b_bad.mp4")
    with caplog.at_level(logging.WARNING, logger="bgdebias.data.datasets"):
        items = [data[i] for i in range(len(data))]
    assert [item.video_index for item in items] == [0, 2, 2, 3]
    assert items[1].path == items[2].path
    assert torch.equal(items[1].clip, items[2].clip)
    assert list(data.skipped) == [bad]  # a list: mypy would keep the property narrowed
    assert sum("skipping unreadable video 1" in r.getMessage() for r in caplog.records) == 1
    # Second epoch: the known-bad file is substituted again without another decoding attempt.
    with mock.patch.object(dataset_base, "VideoReader", wraps=VideoReader) as reader:
        assert data[1].video_index == 2
    assert reader.call_count == 1
    assert list(data.skipped) == [bad, bad]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bgdebias.data.datasets"):
        assert data.pop_skipped() == (bad, bad)
    assert "2 item(s) substituted for 1 unreadable video(s)" in caplog.text
    assert data.skipped == ()
    assert data.pop_skipped() == ()


def test_on_error_skip_gives_up_when_every_video_is_unreadable(tmp_path: Path) -> None:
    for name in ("a.mp4", "b.mp4"):
        (tmp_path / "cls").mkdir(exist_ok=True)
        (tmp_path / "cls" / name).write_bytes(b"\x00" * 64)
    data = VideoFolder(tmp_path, clip_sampler=UniformClipSampler(2), on_error="skip")
    with pytest.raises(RuntimeError, match=r"on_error='skip' gave up at index 1: the 2 video\(s\)"):
        data[1]
    assert len(data.skipped) == 2


def test_skip_does_not_hide_other_errors(vds_corrupt_folder_tree: Path) -> None:
    def broken(_clip: Tensor) -> Tensor:
        raise KeyError("bug in the transform")

    data = VideoFolder(
        vds_corrupt_folder_tree,
        clip_sampler=UniformClipSampler(2, num_clips=1),
        transform=broken,
        on_error="skip",
    )
    with pytest.raises(KeyError, match="bug in the transform"):
        data[0]
    assert data.skipped == ()


# -- indexing ---------------------------------------------------------------------------------


def _big_ucf_tree(root: Path, num_videos: int) -> tuple[Path, Path]:
    videos, lists = root / "videos", root / "lists"
    lists.mkdir(parents=True)
    classes = [f"Class{k:03d}" for k in range(101)]
    (lists / "classInd.txt").write_text("".join(f"{k + 1} {c}\n" for k, c in enumerate(classes)))
    lines = []
    for k in range(num_videos):
        name = classes[k % 101]
        rel = f"{name}/v_{name}_g{k // 101:03d}_c01.avi"
        lines.append(f"{rel} {k % 101 + 1}\n")
    for name in classes:
        (videos / name).mkdir(parents=True)
    for line in lines:
        (videos / line.split()[0]).touch()
    (lists / "trainlist01.txt").write_text("".join(lines))
    return videos, lists


def test_indexing_13000_videos_decodes_nothing(tmp_path: Path) -> None:
    import av
    import torchcodec.decoders

    videos, lists = _big_ucf_tree(tmp_path, 13_000)
    refuse = mock.Mock(side_effect=AssertionError("a decoder was called while indexing"))
    with (
        mock.patch.object(torchcodec.decoders, "VideoDecoder", refuse),
        mock.patch.object(av, "open", refuse),
        mock.patch.object(dataset_base, "VideoReader", refuse),
    ):
        data = UCF101(videos, lists, clip_sampler=UniformClipSampler(8))
    assert refuse.call_count == 0
    assert len(data) == 13_000
    assert len(data.classes) == 101
    assert data.labels[:3] == (0, 1, 2)
    # The placeholders are only found out when an item is read.
    with pytest.raises(RuntimeError, match=re.escape("the file is empty (0 bytes)")):
        data[0]


def test_index_cache_is_reused_and_invalidated(
    tmp_path: Path, vds_ucf101_tree: tuple[Path, Path]
) -> None:
    videos, lists = vds_ucf101_tree
    cache = tmp_path / "cache"
    first = UCF101(videos, lists, clip_sampler=UniformClipSampler(2), cache_dir=cache)
    files = list(cache.glob("UCF101-*.json"))
    assert len(files) == 1
    with mock.patch.object(UCF101, "_list_videos", side_effect=AssertionError("re-parsed")):
        again = UCF101(videos, lists, clip_sampler=UniformClipSampler(2), cache_dir=cache)
    assert (again.paths, again.labels, again.classes) == (first.paths, first.labels, first.classes)
    # Another split is another cache entry.
    test = UCF101(videos, lists, split="test", clip_sampler=UniformClipSampler(2), cache_dir=cache)
    assert len(list(cache.glob("UCF101-*.json"))) == 2
    assert len(test) == 3
    # A corrupt cache file is ignored and rewritten.
    files[0].write_text("{not json")
    rebuilt = UCF101(videos, lists, clip_sampler=UniformClipSampler(2), cache_dir=cache)
    assert rebuilt.paths == first.paths


def test_index_cache_follows_annotation_changes(
    tmp_path: Path, vds_ucf101_tree: tuple[Path, Path]
) -> None:
    videos, lists = vds_ucf101_tree
    copy = tmp_path / "lists"
    copy.mkdir()
    for file in lists.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    cache = tmp_path / "cache"
    assert len(UCF101(videos, copy, clip_sampler=UniformClipSampler(2), cache_dir=cache)) == 6
    lines = (copy / "trainlist01.txt").read_text().splitlines()
    (copy / "trainlist01.txt").write_text("\n".join(lines[:2]) + "\n")
    os.utime(copy / "trainlist01.txt", ns=(1, 1))
    assert len(UCF101(videos, copy, clip_sampler=UniformClipSampler(2), cache_dir=cache)) == 2


def test_symlink_escaping_the_root_is_rejected(tmp_path: Path, vds_videos: dict[str, Path]) -> None:
    root = tmp_path / "root"
    (root / "cls").mkdir(parents=True)
    (root / "cls" / "outside.mp4").symlink_to(vds_videos["mp4"])
    with pytest.raises(
        ValueError,
        match=re.escape(
            "'cls/outside.mp4' is a symlink (or lies under one) that resolves outside the "
            "dataset root"
        ),
    ):
        VideoFolder(root, clip_sampler=UniformClipSampler(2))
    allowed = VideoFolder(
        root, clip_sampler=UniformClipSampler(2, num_clips=1), allow_symlink_escape=True
    )
    assert allowed[0].clip.shape == (3, 2, 32, 48)


def test_symlinks_inside_the_root_are_fine(tmp_path: Path, vds_write_video: Any) -> None:
    root = tmp_path / "root"
    target = vds_write_video(root / "store" / "real.mp4")
    (root / "cls").mkdir()
    (root / "cls" / "link.mp4").symlink_to(target)
    data = VideoFolder(root, clip_sampler=UniformClipSampler(2))
    assert data.paths == ("cls/link.mp4", "store/real.mp4")


def test_symlinked_class_folder_escaping_the_root_is_rejected(
    tmp_path: Path, vds_write_video: Any
) -> None:
    vds_write_video(tmp_path / "elsewhere" / "a.mp4")
    root = tmp_path / "root"
    root.mkdir()
    (root / "cls").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(ValueError, match="resolves outside the dataset root"):
        VideoFolder(root, clip_sampler=UniformClipSampler(2))


def test_datasets_pickle_for_worker_processes(vds_corrupt_folder_tree: Path) -> None:
    import pickle

    data = VideoFolder(
        vds_corrupt_folder_tree,
        clip_sampler=RandomClipSampler(3),
        transform=CenterCropClip(16),
        seed=3,
        on_error="skip",
    )
    copy = pickle.loads(pickle.dumps(data))
    assert copy.paths == data.paths
    assert torch.equal(copy[2].clip, data[2].clip)
    assert copy[1].video_index == 2
