from __future__ import annotations

import re
from pathlib import Path

import pytest

from bgdebias.data.datasets import VideoFolder
from bgdebias.data.sampling import UniformClipSampler

CLIP = UniformClipSampler(4, num_clips=1)


def test_classes_are_sorted_folders_with_videos(vds_folder_tree: Path) -> None:
    data = VideoFolder(vds_folder_tree, clip_sampler=CLIP)
    assert data.classes == ("a_walk", "b_run")
    assert data.class_to_idx == {"a_walk": 0, "b_run": 1}
    assert data.paths == ("a_walk/only.webm", "b_run/W.AVI", "b_run/x.mp4")
    assert data.labels == (0, 1, 1)
    assert [data[i].clip.shape for i in range(3)] == [(3, 4, 32, 48)] * 3
    assert "VideoFolder(root=" in repr(data)
    assert "videos=3, classes=2" in repr(data)


def test_extensions_filter(vds_folder_tree: Path) -> None:
    data = VideoFolder(vds_folder_tree, clip_sampler=CLIP, extensions=(".MP4",))
    assert data.paths == ("b_run/x.mp4",)
    assert data.classes == ("b_run",)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "`extensions` must be a non-empty sequence of endings like ('.mp4',), got '.mp4'"
        ),
    ):
        VideoFolder(vds_folder_tree, clip_sampler=CLIP, extensions=".mp4")


def test_no_videos(tmp_path: Path) -> None:
    (tmp_path / "cls").mkdir()
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(
            "VideoFolder found no videos (.mp4, .avi, .webm, .mkv, .mov, .m4v) in the class "
            f"folders of {str(tmp_path)!r}"
        ),
    ):
        VideoFolder(tmp_path, clip_sampler=CLIP)


@pytest.mark.parametrize("backend", ["torchcodec", "pyav"])
def test_backends_give_identical_samples(vds_folder_tree: Path, backend: str) -> None:
    reference = VideoFolder(
        vds_folder_tree, clip_sampler=CLIP, backend="torchcodec", clip_dtype="uint8"
    )
    data = VideoFolder(vds_folder_tree, clip_sampler=CLIP, backend=backend, clip_dtype="uint8")  # type: ignore[arg-type]
    for index in range(len(data)):
        assert data[index].clip.equal(reference[index].clip)
