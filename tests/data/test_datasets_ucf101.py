from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bgdebias.data.datasets import UCF101, AnnotationError
from bgdebias.data.sampling import UniformClipSampler

CLIP = UniformClipSampler(4, num_clips=1)


def _copy_lists(lists: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "lists"
    shutil.copytree(lists, copy)
    return copy


@pytest.mark.parametrize("fold", [1, 2, 3])
def test_train_split_uses_the_listed_labels(vds_ucf101_tree: tuple[Path, Path], fold: int) -> None:
    videos, lists = vds_ucf101_tree
    data = UCF101(videos, lists, split="train", fold=fold, clip_sampler=CLIP)
    assert data.classes == ("ApplyEyeMakeup", "Archery", "BabyCrawling")
    assert len(data) == 6
    assert data.paths[:2] == (
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.avi",
    )
    assert data.labels == (0, 0, 1, 1, 2, 2)


def test_test_split_takes_labels_from_the_class_folder(
    vds_ucf101_tree: tuple[Path, Path], vds_frame_ids: Callable[..., list[int]]
) -> None:
    videos, lists = vds_ucf101_tree
    data = UCF101(videos, lists, split="test", clip_sampler=CLIP)
    assert data.paths == tuple(f"{c}/v_{c}_g01_c01.avi" for c in data.classes)
    assert data.labels == (0, 1, 2)
    sample = data[2]
    assert sample.clip.shape == (3, 4, 32, 48)
    assert sample.label == 2
    assert sample.path == str(videos / "BabyCrawling" / "v_BabyCrawling_g01_c01.avi")
    assert vds_frame_ids(sample.clip) == [4, 5, 6, 7]


def test_bad_split_and_fold(vds_ucf101_tree: tuple[Path, Path]) -> None:
    videos, lists = vds_ucf101_tree
    with pytest.raises(
        ValueError, match=re.escape("`fold` must be 1, 2 or 3 (the official splits), got 4")
    ):
        UCF101(videos, lists, fold=4, clip_sampler=CLIP)
    with pytest.raises(
        ValueError, match=re.escape("`split` must be one of 'train', 'test'; got 'val'")
    ):
        UCF101(videos, lists, split="val", clip_sampler=CLIP)  # type: ignore[arg-type]


def test_missing_split_files(vds_ucf101_tree: tuple[Path, Path], tmp_path: Path) -> None:
    videos, lists = vds_ucf101_tree
    copy = _copy_lists(lists, tmp_path)
    (copy / "testlist02.txt").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(
            "UCF101 test list of fold 2 not found: expected a file at "
            f"{str(copy / 'testlist02.txt')!r}"
        ),
    ):
        UCF101(videos, copy, split="test", fold=2, clip_sampler=CLIP)
    (copy / "classInd.txt").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=re.escape("UCF101 class list classInd.txt not found: expected a file at"),
    ):
        UCF101(videos, copy, clip_sampler=CLIP)


def test_missing_root(vds_ucf101_tree: tuple[Path, Path], tmp_path: Path) -> None:
    _, lists = vds_ucf101_tree
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(f"UCF101 root {str(tmp_path / 'UCF-101')!r} does not exist"),
    ):
        UCF101(tmp_path / "UCF-101", lists, clip_sampler=CLIP)


def test_listed_video_missing(vds_ucf101_tree: tuple[Path, Path], tmp_path: Path) -> None:
    videos, lists = vds_ucf101_tree
    copy = _copy_lists(lists, tmp_path)
    with (copy / "trainlist01.txt").open("a") as handle:
        handle.write("Archery/v_Archery_g99_c01.avi 2\n")
    expected = str(videos / "Archery" / "v_Archery_g99_c01.avi")
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(
            f"UCF101: 1 listed video(s) are missing, expected at: {expected!r} "
            "(trainlist01.txt, line 7)"
        ),
    ):
        UCF101(videos, copy, clip_sampler=CLIP)
    kept = UCF101(videos, copy, clip_sampler=CLIP, missing_files="skip")
    assert len(kept) == 6
    assert kept.missing == ("Archery/v_Archery_g99_c01.avi",)


@pytest.mark.parametrize(
    ("file", "line", "message"),
    [
        (
            "trainlist01.txt",
            "Archery/v_Archery_g08_c01.avi",
            "trainlist01.txt, line 7: expected '<Class>/<video>.avi <label>', "
            "got 'Archery/v_Archery_g08_c01.avi'",
        ),
        (
            "trainlist01.txt",
            "Archery/v_Archery_g08_c01.avi 9",
            "trainlist01.txt, line 7: label 9 is not in classInd.txt (1-3)",
        ),
        (
            "testlist01.txt",
            "Archery/a.avi 2",
            "testlist01.txt, line 4: expected '<Class>/<video>.avi', got 'Archery/a.avi 2'",
        ),
        (
            "testlist01.txt",
            "Bowling/v_Bowling_g01_c01.avi",
            "testlist01.txt, line 4: class folder 'Bowling' is not in classInd.txt",
        ),
        (
            "classInd.txt",
            "four Bowling",
            "classInd.txt, line 4: expected '<number> <ClassName>', got 'four Bowling'",
        ),
        (
            "classInd.txt",
            "7 Bowling",
            "classInd.txt: class numbers must run 1, 2, ..., N without gaps",
        ),
    ],
)
def test_malformed_lines_are_named_by_file_and_line(
    vds_ucf101_tree: tuple[Path, Path], tmp_path: Path, file: str, line: str, message: str
) -> None:
    videos, lists = vds_ucf101_tree
    copy = _copy_lists(lists, tmp_path)
    with (copy / file).open("a") as handle:
        handle.write(line + "\n")
    split = "test" if file.startswith("test") else "train"
    with pytest.raises(AnnotationError, match=re.escape(message)) as caught:
        UCF101(videos, copy, split=split, clip_sampler=CLIP)  # type: ignore[arg-type]
    assert caught.value.path == str(copy / file)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "../../etc/passwd.avi 1",
            "line 7: path '../../etc/passwd.avi' resolves outside the dataset root",
        ),
        (
            "/etc/passwd.avi 1",
            "line 7: path '/etc/passwd.avi' must be relative to the dataset root",
        ),
        (
            "Archery/../../x.avi 2",
            "line 7: path 'Archery/../../x.avi' resolves outside the dataset root",
        ),
    ],
)
def test_paths_leaving_the_root_are_rejected(
    vds_ucf101_tree: tuple[Path, Path], tmp_path: Path, entry: str, message: str
) -> None:
    videos, lists = vds_ucf101_tree
    copy = _copy_lists(lists, tmp_path)
    with (copy / "trainlist01.txt").open("a") as handle:
        handle.write(entry + "\n")
    with pytest.raises(ValueError, match=re.escape(message)):
        UCF101(videos, copy, clip_sampler=CLIP)
