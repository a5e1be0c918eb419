from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bgdebias.data.datasets import AnnotationError, Kinetics, kinetics_file_name
from bgdebias.data.sampling import UniformClipSampler

CLIP = UniformClipSampler(4, num_clips=1)


def test_file_name_of_the_download_scripts() -> None:
    assert kinetics_file_name("abc-_1", 5, 15) == "abc-_1_000005_000015.mp4"


def test_train_split_in_label_folders(vds_kinetics_tree: Path) -> None:
    data = Kinetics(vds_kinetics_tree, split="train", clip_sampler=CLIP)
    assert data.classes == ("abseiling", "playing guitar")
    assert data.paths == (
        "train/abseiling/tr00-_x_000000_000010.mp4",
        "train/abseiling/tr01-_x_000010_000020.mp4",
        "train/playing_guitar/tr10-_x_000000_000010.mp4",
        "train/playing_guitar/tr11-_x_000010_000020.mp4",
    )
    assert data.labels == (0, 0, 1, 1)
    sample = data[3]
    assert sample.clip.shape == (3, 4, 32, 48)
    assert sample.label == 1


def test_val_split_flat_layout_uses_the_train_classes(vds_kinetics_tree: Path) -> None:
    data = Kinetics(vds_kinetics_tree, split="val", clip_sampler=CLIP)
    assert data.classes == ("abseiling", "playing guitar")
    assert data.paths == ("val/va0_000001_000011.mp4", "val/va1_000001_000011.mp4")
    assert data.labels == (0, 1)
    assert data[0].clip.shape == (3, 4, 32, 48)


def test_unlabelled_test_split(vds_kinetics_tree: Path) -> None:
    data = Kinetics(vds_kinetics_tree, split="test", clip_sampler=CLIP)
    assert data.paths == ("test/te0_000000_000010.mp4",)
    assert data.labels == (-1,)
    assert data[0].label == -1


def _copy(vds_kinetics_tree: Path, tmp_path: Path) -> Path:
    root = tmp_path / "k"
    shutil.copytree(vds_kinetics_tree, root, symlinks=True)
    return root


def test_val_csv_name_and_annotation_path(vds_kinetics_tree: Path, tmp_path: Path) -> None:
    root = _copy(vds_kinetics_tree, tmp_path)
    moved = tmp_path / "csv"
    shutil.move(root / "annotations", moved)
    (moved / "validate.csv").rename(moved / "val.csv")
    data = Kinetics(root, split="val", annotation_path=moved, clip_sampler=CLIP)
    assert len(data) == 2


def test_missing_csv_and_split_folder(vds_kinetics_tree: Path, tmp_path: Path) -> None:
    root = _copy(vds_kinetics_tree, tmp_path)
    (root / "annotations" / "validate.csv").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(
            "Kinetics val annotations (validate.csv or val.csv) not found: expected a file at"
        ),
    ):
        Kinetics(root, split="val", clip_sampler=CLIP)
    shutil.rmtree(root / "test")
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(
            f"Kinetics test videos not found: expected a folder {str(root / 'test')!r}"
        ),
    ):
        Kinetics(root, split="test", clip_sampler=CLIP)


def test_missing_videos_raise_or_are_dropped(vds_kinetics_tree: Path, tmp_path: Path) -> None:
    root = _copy(vds_kinetics_tree, tmp_path)
    with (root / "annotations" / "train.csv").open("a") as handle:
        handle.write("abseiling,gone,0,10,train,0\n")
    expected = str(root / "train" / "abseiling" / "gone_000000_000010.mp4")
    with pytest.raises(FileNotFoundError, match=re.escape(f"{expected!r} (train.csv, line 6)")):
        Kinetics(root, clip_sampler=CLIP)
    data = Kinetics(root, clip_sampler=CLIP, missing_files="skip")
    assert len(data) == 4
    assert data.missing == ("train/abseiling/gone_000000_000010.mp4",)


@pytest.mark.parametrize(
    ("row", "error", "message"),
    [
        (
            "abseiling,x,zero,10,train,0",
            AnnotationError,
            "train.csv, line 6: time_start/time_end must be numbers, got 'zero', '10'",
        ),
        (
            "abseiling,x,0",
            AnnotationError,
            "train.csv, line 6: wrong number of fields for the header",
        ),
        (
            "abseiling,../../x,0,10,train,0",
            ValueError,
            "train.csv, line 6: youtube_id '../../x' must not contain path separators",
        ),
    ],
)
def test_malformed_rows(
    vds_kinetics_tree: Path, tmp_path: Path, row: str, error: type[Exception], message: str
) -> None:
    root = _copy(vds_kinetics_tree, tmp_path)
    with (root / "annotations" / "train.csv").open("a") as handle:
        handle.write(row + "\n")
    with pytest.raises(error, match=re.escape(message)):
        Kinetics(root, clip_sampler=CLIP)


def test_unknown_label_and_missing_columns(vds_kinetics_tree: Path, tmp_path: Path) -> None:
    root = _copy(vds_kinetics_tree, tmp_path)
    with (root / "annotations" / "validate.csv").open("a") as handle:
        handle.write("juggling,va9,1,11,val,0\n")
    with pytest.raises(
        AnnotationError,
        match=re.escape("validate.csv, line 4: label 'juggling' does not occur in train.csv"),
    ):
        Kinetics(root, split="val", clip_sampler=CLIP)
    (root / "annotations" / "test.csv").write_text("id,start\nx,0\n")
    with pytest.raises(
        AnnotationError,
        match=re.escape(
            "test.csv, line 1: the header lacks column(s) youtube_id, time_start, time_end"
        ),
    ):
        Kinetics(root, split="test", clip_sampler=CLIP)


def test_bad_split(vds_kinetics_tree: Path) -> None:
    with pytest.raises(
        ValueError, match=re.escape("`split` must be one of 'train', 'val', 'test'; got 'validate'")
    ):
        Kinetics(vds_kinetics_tree, split="validate", clip_sampler=CLIP)  # type: ignore[arg-type]
